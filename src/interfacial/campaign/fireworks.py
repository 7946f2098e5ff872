"""Submitting a campaign to FireWorks: routed workflows on a LaunchPad, no credentials inside.

Converting uses ``flow_to_workflow(flow, store=None)``: no store settings and no credentials
travel inside a Firework; workers use their own ``jobflow.yaml``.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from interfacial.campaign.spec import Campaign, load_campaign
from interfacial.campaign.status import workflow_metadata
from interfacial.commands import worker_placeholder
from interfacial.errors import InterfacialError

if TYPE_CHECKING:
    from jobflow import Flow

    from interfacial.settings import InterfacialSettings


#: The VASP command as submitted jobs carry it: expanded by atomate2 on the worker at run time, so
#: each worker's own vasp_cmd is used (its environment variable, or its settings file through
#: ``interfacial-rlaunch``, see :func:`interfacial.commands.worker_environment`).
WORKER_VASP_CMD = worker_placeholder("vasp_cmd")

#: The commands a submission leaves to the worker (each resolved there from its own settings).
WORKER_COMMANDS = ("vasp_cmd", "lammps_cmd", "mlp_cmd", "mpi_cmd")


#: Which routing category each stage's jobs go to.
STAGE_ROUTE = {"screen": "dft", "surfaces": "dft", "interfaces": "dft", "transport": "md"}


def route(flow: Flow, category: str, fworker: str | None = None) -> Flow:
    """Send every job of ``flow`` (and the jobs it creates at run time) to ``category``.

    jobflow passes a job's manager_config on to the jobs it creates (``pass_manager_config``),
    so run-time fan-outs keep the routing (checked with real workers in the tests).
    """
    config: dict[str, Any] = {"_category": category}
    if fworker:
        config["_fworker"] = fworker
    flow.update_config({"manager_config": config})
    return flow


def submit(
    campaign: Campaign, launchpad: Any, settings: InterfacialSettings | None = None
) -> list[dict[str, Any]]:
    """Add every flow of the campaign to a LaunchPad as a workflow (``store=None``).

    Returns one summary per workflow: stage, flow name, number of Fireworks, categories.
    """
    return add_flows(campaign, submission_flows(campaign, settings), launchpad)


def submission_flows(
    campaign: Campaign, settings: InterfacialSettings | None = None
) -> list[tuple[str, Flow]]:
    """Build and validate every flow of a submission: (stage, flow) pairs, nothing added."""
    from interfacial.settings import get_settings

    # Engine commands and scratch directories are the worker's, not the submitter's.
    worker_settings = (settings or get_settings()).model_copy(
        update={name: worker_placeholder(name) for name in WORKER_COMMANDS} | {"md_dir": None}
    )
    return campaign.flows(worker_settings, local=False)


def add_flows(
    campaign: Campaign, flows: list[tuple[str, Flow]], launchpad: Any
) -> list[dict[str, Any]]:
    """Add built flows to a LaunchPad as routed workflows (``store=None``); one summary each."""
    from jobflow.managers.fireworks import flow_to_workflow

    added = []
    for stage, flow in flows:
        category = getattr(campaign.routing, STAGE_ROUTE[stage])
        # store=None: nothing about the database (credentials included) goes into the specs.
        routed = route(flow, category, campaign.routing.fworker)
        # The campaign, stage and entry, for `interfacial status` (interfacial.campaign.status).
        metadata = workflow_metadata(campaign.name, stage, flow)
        workflow = flow_to_workflow(routed, store=None, metadata=metadata)  # type: ignore[arg-type]
        launchpad.add_wf(workflow)
        added.append(
            {
                "stage": stage,
                "entry": metadata["entry"],
                "flow": flow.name,
                "fireworks": len(workflow.fws),
                "category": category,
            }
        )
    return added


def open_launchpad(path: Path | None) -> Any:
    """Open a LaunchPad from ``path`` (or FireWorks' default) and check the server answers.

    An embedded (file-backed) LaunchPad is locked for this process first, so a submission
    cannot be lost under a running worker.
    """
    from interfacial.fireworks_embedded import embedded_store_file
    from interfacial.fireworks_embedded import open_launchpad as open_lpad

    try:
        lpad = open_lpad(path)
    except InterfacialError:
        raise
    except FileNotFoundError:
        raise InterfacialError(f"launchpad file {path} does not exist") from None
    except Exception as exc:  # FireWorks raises several types for a bad file
        raise InterfacialError(f"cannot load launchpad file {path}: {exc}") from None
    if embedded_store_file() is None:
        try:
            lpad.connection.admin.command("ping")
        except Exception as exc:  # pymongo's ServerSelectionTimeoutError and friends
            raise InterfacialError(
                f"the LaunchPad's database does not answer ({type(exc).__name__}); check "
                f"host, port and credentials in {path or 'your FireWorks configuration'}"
            ) from None
    return lpad


def submit_file(
    path: str | Path, launchpad_file: Path | None = None
) -> tuple[Campaign, list[dict[str, Any]]]:
    """Load a campaign file and :func:`submit` it to the LaunchPad of ``launchpad_file``."""
    campaign = load_campaign(path)
    # Every flow is built and checked before the LaunchPad is opened: bad input is reported
    # without waiting on a server, and nothing is added.
    flows = submission_flows(campaign)
    return campaign, add_flows(campaign, flows, open_launchpad(launchpad_file))
