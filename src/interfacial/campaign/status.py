"""Where a submitted campaign stands: Fireworks per stage and entry, errors, stored results.

A submission records, in each workflow's metadata (:func:`workflow_metadata`), the campaign's
name, the stage, a label of the entry and the keys its results are stored under (the bulk
relaxation's uuid of a surface entry, the system of a transport entry, ...). The status is read
back with plain collection queries (``launchpad.workflows``, ``fireworks``, ``launches``) that
MongoDB and the embedded LaunchPad answer alike; reruns use FireWorks' own
``LaunchPad.rerun_fw``.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from interfacial.errors import InterfacialError

if TYPE_CHECKING:
    from jobflow import Flow, Job

    from interfacial.campaign.spec import Campaign
    from interfacial.settings import InterfacialSettings

#: Columns of the status, each the FireWorks states it counts.
STATE_COLUMNS = {
    "waiting": ("WAITING",),
    "ready": ("READY",),
    "running": ("RESERVED", "RUNNING"),
    "completed": ("COMPLETED",),
    "fizzled": ("FIZZLED",),
    "other": ("DEFUSED", "PAUSED", "ARCHIVED"),
}

#: Job-metadata keys (under ``interfacial``) that say where an entry's results are stored.
RESULT_KEYS = ("bulk_uuid", "metal_bulk_uuid", "interface_key", "system", "electrolyte")


#: Key of a chain flow's metadata listing its parts (written by :mod:`interfacial.campaign.chain`).
PARTS_KEY = "interfacial_parts"


def _job_metadata(flow: Flow | Job | None) -> list[dict[str, Any]]:
    """The ``interfacial`` metadata of every job of ``flow`` (in flow order)."""
    from jobflow import Flow

    if flow is None:
        return []
    jobs = [job for job, _ in flow.iterflow()] if isinstance(flow, Flow) else [flow]
    return [
        job.metadata["interfacial"]
        for job in jobs
        if isinstance((job.metadata or {}).get("interfacial"), dict)
    ]


def stage_results(stage: str, flow: Flow | Job | None) -> dict[str, Any]:
    """The keys the stored results of one entry of ``stage`` are found by, from its jobs."""
    results: dict[str, Any] = {}
    for meta in _job_metadata(flow):
        if stage == "surfaces" and meta.get("role") == "facets":
            results.setdefault("bulk_uuid", meta.get("bulk_uuid"))
            results.setdefault("material", meta.get("material"))
        elif stage == "interfaces" and meta.get("role") == "interface_fanout":
            results.setdefault("metal_bulk_uuid", meta.get("metal_bulk_uuid"))
            results.setdefault("interface_key", meta.get("interface_key"))
        elif stage not in ("surfaces", "interfaces"):
            for key in ("system", "electrolyte"):
                if meta.get(key) is not None:
                    results.setdefault(key, meta[key])
    return results


def workflow_metadata(campaign_name: str, stage: str, flow: Flow) -> dict[str, Any]:
    """Metadata a submitted workflow carries, so that ``interfacial status`` can find it.

    ``entry`` is the entry's label (material, interface, system or electrolyte; else the flow's
    name) and ``results`` the keys its stored documents are found by. A ``chain`` (entries
    joined by references, :mod:`interfacial.campaign.chain`) lists its parts instead, each
    with its stage, entry and keys (``results: {"parts": [...]}``): its potentials and
    transport parts are built at run time, so their systems come from the chain's
    ``metadata[PARTS_KEY]``, not from its jobs.
    """
    parts = flow.metadata.get(PARTS_KEY) if stage == "chain" else None
    results = {"parts": parts} if parts else stage_results(stage, flow)
    label = next(
        (
            results[key]
            for key in ("material", "interface_key", "system", "electrolyte")
            if results.get(key)
        ),
        flow.name,
    )
    return {"campaign": campaign_name, "stage": stage, "entry": str(label), "results": results}


@dataclass
class FizzledFirework:
    """A FIZZLED Firework and the last line of its error."""

    fw_id: int
    name: str
    error: str


@dataclass
class EntryStatus:
    """One workflow of the campaign: a stage's entry."""

    stage: str
    entry: str
    workflow: str
    counts: dict[str, int]
    fizzled: list[FizzledFirework] = field(default_factory=list)
    results: dict[str, int] = field(default_factory=dict)

    @property
    def total(self) -> int:
        """Number of Fireworks of the workflow (it grows as jobs fan out at run time)."""
        return sum(self.counts.values())


@dataclass
class CampaignStatus:
    """Every submitted workflow of a campaign, in submission order."""

    campaign: str
    entries: list[EntryStatus]
    rerun: list[dict[str, Any]] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready form (``interfacial status --json``)."""
        return {
            "campaign": self.campaign,
            "entries": [{**asdict(e), "total": e.total} for e in self.entries],
            "rerun": self.rerun,
        }


def count_states(states: list[str]) -> dict[str, int]:
    """Fireworks per column of :data:`STATE_COLUMNS` (every column present, zero if none)."""
    tally = Counter(states)
    return {column: sum(tally[s] for s in group) for column, group in STATE_COLUMNS.items()}


def error_line(launch: dict[str, Any] | None) -> str:
    """The last non-empty line of a launch's stored error (a traceback's last line is the error).

    FireWorks stores a failed task's traceback in ``action.stored_data._exception._stacktrace``;
    a run marked FIZZLED without one (a lost run, a rerun) has none.
    """
    action = (launch or {}).get("action") or {}
    stored = action.get("stored_data") or {}
    exception = stored.get("_exception") or {}
    for text in (exception.get("_stacktrace"), stored.get("_message")):
        lines = [line.strip() for line in str(text or "").splitlines() if line.strip()]
        if lines:
            return lines[-1]
    return "no error recorded (a run lost or marked fizzled by hand)"


def campaign_names(launchpad: Any) -> list[str]:
    """Names of the campaigns submitted to ``launchpad`` (from the workflows' metadata)."""
    return sorted(str(n) for n in launchpad.workflows.distinct("metadata.campaign") if n)


def campaign_workflows(launchpad: Any, name: str) -> list[dict[str, Any]]:
    """The workflow documents of campaign ``name`` on ``launchpad``, in submission order.

    Raises
    ------
    InterfacialError
        If the LaunchPad holds no workflow of that campaign.

    """
    found = launchpad.workflows.find(
        {"metadata.campaign": name}, {"nodes": 1, "metadata": 1, "name": 1}
    )
    workflows = sorted(found, key=lambda w: min(w.get("nodes") or [0]))
    if not workflows:
        known = campaign_names(launchpad)
        listed = f"campaigns there: {', '.join(known)}" if known else "no campaign submitted there"
        raise InterfacialError(
            f"campaign '{name}' has no workflows on the LaunchPad ({listed}); submit it with "
            "`interfacial submit CAMPAIGN_FILE`, or give the --launchpad it was submitted to"
        )
    return workflows


def entry_status(launchpad: Any, workflow: dict[str, Any]) -> EntryStatus:
    """States of one workflow's Fireworks and the error lines of the fizzled ones."""
    fireworks = list(
        launchpad.fireworks.find(
            {"fw_id": {"$in": list(workflow["nodes"])}},
            {"fw_id": 1, "name": 1, "state": 1, "launches": 1},
        )
    )
    fizzled = []
    for fw in sorted(fireworks, key=lambda f: f["fw_id"]):
        if fw["state"] != "FIZZLED":
            continue
        launch_ids = list(fw.get("launches") or [])
        launch = launchpad.launches.find_one({"launch_id": launch_ids[-1]}) if launch_ids else None
        fizzled.append(FizzledFirework(int(fw["fw_id"]), str(fw["name"]), error_line(launch)))
    metadata = workflow.get("metadata") or {}
    return EntryStatus(
        stage=str(metadata.get("stage", "?")),
        entry=str(metadata.get("entry", workflow.get("name", "?"))),
        workflow=str(workflow.get("name", "")),
        counts=count_states([str(fw["state"]) for fw in fireworks]),
        fizzled=fizzled,
    )


def _surfaces(keys: dict[str, Any], settings: InterfacialSettings) -> dict[str, int]:
    from interfacial.api import query_surfaces

    return {"surfaces": len(query_surfaces(bulk_uuid=keys["bulk_uuid"], settings=settings))}


def _interfaces(keys: dict[str, Any], settings: InterfacialSettings) -> dict[str, int]:
    from interfacial.api import query_interfaces

    docs = query_interfaces(
        metal_bulk_uuid=keys["metal_bulk_uuid"], lowest_only=False, settings=settings
    )
    return {"interface models": len(docs)}


def _transport(keys: dict[str, Any], settings: InterfacialSettings) -> dict[str, int]:
    from interfacial.api import query_arrhenius, query_diffusion

    return {
        "diffusion": len(query_diffusion(keys["system"], settings=settings)),
        "arrhenius": len(query_arrhenius(keys["system"], settings=settings)),
    }


def _potentials(keys: dict[str, Any], settings: InterfacialSettings) -> dict[str, int]:
    from interfacial.api import load_potential

    try:
        load_potential(f"store:{keys['system']}", settings=settings)
    except InterfacialError:
        return {"potential": 0}
    return {"potential": 1}


def _screen(keys: dict[str, Any], settings: InterfacialSettings) -> dict[str, int]:
    from interfacial.api.screening import query_screening

    return {"screening": len(query_screening(settings, electrolyte=keys["electrolyte"]))}


#: Per stage: the key its results are found by, and how many of them are stored.
_RESULTS = {
    "surfaces": ("bulk_uuid", _surfaces),
    "interfaces": ("metal_bulk_uuid", _interfaces),
    "transport": ("system", _transport),
    "potentials": ("system", _potentials),
    "screen": ("electrolyte", _screen),
}


def stored_results(
    stage: str, keys: dict[str, Any], settings: InterfacialSettings
) -> dict[str, int]:
    """How many documents of an entry's results the database holds (by the recorded keys).

    A ``chain`` adds up the results of its parts (interface models, the potential, diffusion
    and Arrhenius documents). Derived documents appear once ``interfacial build`` (or an
    ``interfacial-rlaunch`` worker on the embedded database) has run the builders.
    """
    if stage == "chain":
        total: Counter[str] = Counter()
        for part in keys.get("parts") or []:
            total.update(
                stored_results(str(part.get("stage")), part.get("results") or {}, settings)
            )
        return dict(total)
    if stage not in _RESULTS or not keys.get(_RESULTS[stage][0]):
        return {}
    return _RESULTS[stage][1](keys, settings)


def campaign_status(
    launchpad: Any, name: str, settings: InterfacialSettings | None = None
) -> CampaignStatus:
    """Fireworks per state, fizzled errors and stored results of every entry of campaign ``name``.

    Raises
    ------
    InterfacialError
        If the LaunchPad holds no workflow of that campaign.

    """
    from interfacial.settings import get_settings

    settings = settings or get_settings()
    entries = []
    for workflow in campaign_workflows(launchpad, name):
        entry = entry_status(launchpad, workflow)
        keys = (workflow.get("metadata") or {}).get("results") or {}
        entry.results = stored_results(entry.stage, keys, settings)
        entries.append(entry)
    return CampaignStatus(name, entries)


def rerun_fizzled(launchpad: Any, status: CampaignStatus) -> list[dict[str, Any]]:
    """Rerun every FIZZLED Firework of the campaign with FireWorks' ``LaunchPad.rerun_fw``.

    Returns what was rerun: fw_id, name, and the ids FireWorks reset (the Firework and its
    children).
    """
    rerun = []
    for entry in status.entries:
        for fw in entry.fizzled:
            reset = launchpad.rerun_fw(fw.fw_id)
            rerun.append({"fw_id": fw.fw_id, "name": fw.name, "reset": sorted(reset or [])})
    return rerun


def resolve_campaign(target: str) -> tuple[str, Campaign | None]:
    """A campaign's name from ``target``: a campaign file (validated), else a submitted name.

    A target that names an existing path, or ends in ``.yaml``/``.yml``, is a file.
    """
    from interfacial.campaign.spec import load_campaign

    path = Path(target).expanduser()
    if path.exists() or path.suffix.lower() in (".yaml", ".yml"):
        campaign = load_campaign(path)
        return campaign.name, campaign
    if not target.strip():
        raise InterfacialError(
            "the campaign is empty; give a campaign file or the name of a submitted campaign"
        )
    return target, None


def open_status_launchpad(launchpad_file: Path | None, name: str) -> Any:
    """Open the LaunchPad to read a status from, refusing to create the default embedded one."""
    from interfacial.campaign.fireworks import open_launchpad
    from interfacial.fireworks_embedded import default_store_file, fireworks_configured

    if launchpad_file is None and not fireworks_configured(None):
        default = default_store_file()
        if not default.exists():
            raise InterfacialError(
                f"campaign '{name}' cannot have been submitted here: there is no embedded "
                f"LaunchPad at {default}; submit it with `interfacial submit CAMPAIGN_FILE`, or "
                "give the --launchpad it was submitted to"
            )
    return open_launchpad(launchpad_file)


def status(
    target: str,
    launchpad_file: Path | None = None,
    *,
    rerun: bool = False,
    settings: InterfacialSettings | None = None,
) -> CampaignStatus:
    """``interfacial status``: the status of a campaign (file or name), optionally rerunning.

    With ``rerun``, every fizzled Firework is rerun (FireWorks' ``rerun_fw``) and the status is
    read again afterwards; ``CampaignStatus.rerun`` says what was rerun.
    """
    name, _ = resolve_campaign(target)  # bad input first, before any server is contacted
    launchpad = open_status_launchpad(launchpad_file, name)
    result = campaign_status(launchpad, name, settings)
    if rerun:
        done = rerun_fizzled(launchpad, result)
        result = campaign_status(launchpad, name, settings)
        result.rerun = done
    return result
