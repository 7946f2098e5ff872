"""Routing jobs to FireWorks queues by kind: DFT-like calculations, fits, transport MD.

FireWorks sends a Firework to the workers whose ``category`` matches its spec's ``_category``;
jobflow writes a job's ``config.manager_config`` into that spec. A job's kind is read from its
role tag (:mod:`interfacial.schemas.roles`): reference MD and labelling single points need the
reference calculator (``dft``), fits and active-learning rounds the fit engine (``fit``),
transport MD LAMMPS (``md``). Untagged jobs take the category of their stage.

Jobs created at run time are the subtle part. jobflow hands a parent's ``manager_config`` to
every job it creates (``pass_manager_config``), which suits a fan-out of one kind (slabs, model
relaxations) but not an active-learning round, whose children are labels (dft), a refit (fit)
and the next round (fit). Such a parent is made with ``pass_manager_config=False`` and calls
:func:`route_created` on its children: it reads the routes that :func:`route` stored in its own
``manager_config`` (under :data:`ROUTES_KEY`) and gives each child the category of its role.
jobflow itself adds one job to a replacement flow after the parent returns (``store_inputs``,
which stores the flow's output under the parent's uuid): a dynamic config update filtered on
that name, which :func:`route_created` puts last on the parent, routes it with the parent.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from interfacial.schemas.roles import Role

if TYPE_CHECKING:
    from jobflow import Flow, Job

#: Key of the role -> category table in the manager_config of a job that routes its children.
ROUTES_KEY = "interfacial_routes"

#: The kind of queue (a key of the campaign's ``routing``) each role needs.
ROLE_KIND: dict[Role, str] = {
    Role.REFERENCE_MD: "dft",
    Role.REFERENCE_MD_RAMP: "dft",
    Role.REFERENCE_MD_PRODUCTION: "dft",
    Role.AL_LABEL: "dft",
    Role.TRAINING_SETS: "fit",
    Role.MTP_FIT: "fit",
    Role.ACTIVE_LEARNING: "fit",
    Role.TRANSPORT_LEARNING: "md",
    Role.DIFFUSION_MD: "md",
    Role.ARRHENIUS_SUMMARY: "md",
}

#: Name of the job jobflow appends to a replacement flow to store its output (jobflow 0.4).
STORE_OUTPUT_JOB = "store_inputs"


def role_routes(categories: Mapping[str, str]) -> dict[str, str]:
    """Role value -> FireWorks category, from the category of each kind (``{"dft": ...}``)."""
    return {role.value: categories[kind] for role, kind in ROLE_KIND.items()}


def _jobs(item: Job | Flow | Sequence[Job | Flow]) -> list[Job]:
    from jobflow import Job

    if isinstance(item, Job):
        return [item]
    children = item.jobs if hasattr(item, "jobs") else item
    return [j for child in children for j in _jobs(child)]


def _role(job: Job) -> str | None:
    keys = (job.metadata or {}).get("interfacial")
    return keys.get("role") if isinstance(keys, Mapping) else None


def _part_role(part: Job | Flow) -> str | None:
    """Role of a job, or of the tagged output job of a flow (a maker may return a Flow)."""
    from interfacial.errors import InterfacialError
    from interfacial.schemas.roles import output_jobs

    try:
        roles = {_role(j) for j in output_jobs(part)} - {None}
    except InterfacialError:  # a flow without output: its jobs speak for themselves
        return None
    return roles.pop() if len(roles) == 1 else None


def _set(job: Job, base: dict[str, Any], category: str, routes: dict[str, str]) -> None:
    """Give ``job`` the category; a job that routes its own children also gets the routes."""
    config = {**base, "_category": category}
    if not job.config.pass_manager_config:
        config[ROUTES_KEY] = routes
    job.config.manager_config = config


def route(
    flow: Job | Flow,
    category: str,
    fworker: str | None = None,
    routes: Mapping[str, str] | None = None,
) -> Job | Flow:
    """Route every job of ``flow``: by role when ``routes`` names it, else to ``category``.

    Jobs created at run time keep the routing: a fan-out passes its parent's config on
    (jobflow), a job made with ``pass_manager_config=False`` routes its children by role
    (:func:`route_created`). Jobs routed already (a part of a combined flow) keep their route.

    Returns
    -------
    Job or Flow
        ``flow`` itself.

    """
    table = dict(routes or {})
    base: dict[str, Any] = {"_fworker": fworker} if fworker else {}
    parts = [flow] if not hasattr(flow, "jobs") else list(flow.jobs)
    for part in parts:
        part_role = _part_role(part)
        for job in _jobs(part):
            if "_category" in job.config.manager_config:
                continue
            role = _role(job) or part_role
            _set(job, base, table.get(role or "", category), table)
    return flow


def routes_its_children(job: Job) -> Job:
    """Mark ``job`` as one that creates jobs of other kinds and routes them itself.

    jobflow hands a job's manager_config (its queue) to every job it creates unless
    ``pass_manager_config`` is False; such a job calls :func:`route_created` on what it
    creates instead. Returns ``job``.
    """
    job.config.pass_manager_config = False
    return job


def route_created(new: Job | Flow | Sequence[Job | Flow]) -> None:
    """Inside a running job: route the jobs it creates by role, with the routes it carries.

    Does nothing when the running job carries no routes (run here, or submitted without a
    campaign's routing): its children then run wherever it does.
    """
    from jobflow import CURRENT_JOB

    parent = CURRENT_JOB.job
    config = dict(parent.config.manager_config) if parent is not None else {}
    routes = config.pop(ROUTES_KEY, None)
    if parent is None or not routes:
        return
    # jobflow adds store_inputs to the replacement after this job returns and then applies
    # this job's dynamic config updates: the last one for store_inputs gives it this job's
    # route. Those inherited from ancestors (which jobflow appends to every job they create)
    # would give it theirs, so they are dropped here, where the order is still ours.
    parent.config_updates = [
        u for u in parent.config_updates if u.get("name_filter") != STORE_OUTPUT_JOB
    ]
    parent.update_config({"manager_config": config}, name_filter=STORE_OUTPUT_JOB, dynamic=True)
    default = config.get("_category", "")
    parts = [new] if not isinstance(new, Sequence) else list(new)
    for part in parts:
        part_role = _part_role(part)
        for job in _jobs(part):
            role = _role(job) or part_role
            _set(job, config, routes.get(role or "", default), routes)
