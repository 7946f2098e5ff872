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


#: The routing kind of each stage's untagged jobs; tagged jobs go by kind
#: (:data:`interfacial.routing.ROLE_KIND`: reference MD and labels to dft, fits to fit, MD to md).
STAGE_ROUTE = {
    "screen": "dft",
    "surfaces": "dft",
    "interfaces": "dft",
    "potentials": "dft",
    "transport": "md",
    "chain": "dft",
}


def route(
    flow: Flow, category: str, fworker: str | None = None, routes: dict[str, str] | None = None
) -> Flow:
    """Send every job of ``flow`` (and the jobs it creates at run time) to ``category``.

    ``routes`` (role -> category, :func:`interfacial.routing.role_routes`) sends tagged jobs
    by kind instead. jobflow passes a job's manager_config on to the jobs it creates
    (``pass_manager_config``), so run-time fan-outs keep the routing; an active-learning
    round routes its labels and refits by kind itself (checked with real workers in tests).
    """
    from interfacial.routing import route as route_jobs

    route_jobs(flow, category, fworker, routes)
    return flow


def route_step(campaign: Campaign, stage: str, flow: Flow, parts: list[Any] | None = None) -> Flow:
    """Route one submitted flow: each part of a chain by its own stage, then the rest."""
    from interfacial.routing import role_routes

    routing = campaign.routing
    routes = role_routes(routing.model_dump())
    for part_stage, part in parts or []:
        if part is not None:
            route(part, getattr(routing, STAGE_ROUTE[part_stage]), routing.fworker, routes)
    return route(flow, getattr(routing, STAGE_ROUTE[stage]), routing.fworker, routes)


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
    steps = campaign.steps(worker_settings, local=False)
    # Routed here, where the parts of a chain are still known (add_flows routes the rest).
    return [(s.stage, route_step(campaign, s.stage, s.flow, s.parts)) for s in steps if s.flow]


def add_flows(
    campaign: Campaign, flows: list[tuple[str, Flow]], launchpad: Any
) -> list[dict[str, Any]]:
    """Add built flows to a LaunchPad as routed workflows (``store=None``); one summary each."""
    from jobflow.managers.fireworks import flow_to_workflow

    added = []
    for stage, flow in flows:
        # store=None: nothing about the database (credentials included) goes into the specs.
        routed = route_step(campaign, stage, flow)
        # The campaign, stage and entry, for `interfacial status` (interfacial.campaign.status).
        metadata = workflow_metadata(campaign.name, stage, flow)
        workflow = flow_to_workflow(routed, store=None, metadata=metadata)  # type: ignore[arg-type]
        category = ", ".join(sorted({str(fw.spec.get("_category")) for fw in workflow.fws}))
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
