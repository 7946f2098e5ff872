"""Submit surface-energy flows to a FireWorks LaunchPad.

Usage::

    python workflows/surfaces_on_fireworks.py Li Li2S Li3P --launchpad my_launchpad.yaml \
        [--calculator VASP] [--max-index 1]

then on the cluster: ``rlaunch rapidfire`` (or ``qlaunch``) with a ``jobflow.yaml`` that points at
your database (see launchpad_examples/jobflow.yaml). The flow is converted with ``store=None``:
no database settings or credentials are written into the Fireworks.
"""

from __future__ import annotations

import argparse


def main() -> None:
    """Convert one surface flow per material to a Workflow and add it to the LaunchPad."""
    from fireworks import LaunchPad
    from jobflow.managers.fireworks import flow_to_workflow

    from interfacial.api import surface_flow

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("materials", nargs="+", help="built-in names or structure files")
    parser.add_argument("--launchpad", required=True, help="my_launchpad.yaml")
    parser.add_argument("--calculator", default="VASP")
    parser.add_argument("--max-index", type=int, default=1)
    args = parser.parse_args()

    launchpad = LaunchPad.from_file(args.launchpad)
    for material in args.materials:
        flow = surface_flow(material, max_index=args.max_index, calculator=args.calculator)
        workflow = flow_to_workflow(flow, store=None)
        ids = launchpad.add_wf(workflow)
        print(f"{material}: added workflow with {len(ids)} fireworks")


if __name__ == "__main__":
    main()
