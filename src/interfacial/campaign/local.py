"""Running a campaign here: every stage in order, stored, built, this run's documents returned.

The stages run in file order, so a transport entry may use the potential that the same
campaign's potentials stage learns (``store:SYSTEM``). The demo campaign ships with the package.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from interfacial import engines
from interfacial.campaign.spec import Campaign, Step, load_campaign
from interfacial.errors import InterfacialError

if TYPE_CHECKING:
    from jobflow import Flow

    from interfacial.settings import InterfacialSettings


@dataclass
class CampaignResult:
    """What a local run of a campaign computed: this run's documents, not older ones.

    ``surfaces`` and ``interfaces`` are per-termination and per-model documents (J/m^2),
    ``potentials`` the active-learning outputs (``rounds``, ``final_fit``), ``diffusion`` the
    D* documents (cm^2/s) and ``arrhenius`` the Arrhenius fits (Ea in meV) of the transport
    stage, ``screenings`` the screening documents of the screen stage (one per entry).
    ``report`` and ``stored_surfaces`` are filled by :func:`run_demo`.
    """

    campaign: Campaign
    screenings: list[dict[str, Any]] = field(default_factory=list)
    surfaces: list[dict[str, Any]] = field(default_factory=list)
    interfaces: list[dict[str, Any]] = field(default_factory=list)
    potentials: list[dict[str, Any]] = field(default_factory=list)
    diffusion: list[dict[str, Any]] = field(default_factory=list)
    arrhenius: list[dict[str, Any]] = field(default_factory=list)
    report: list[Path] = field(default_factory=list)
    stored_surfaces: int | None = None


def run(
    campaign: Campaign,
    settings: InterfacialSettings | None = None,
    *,
    show_progress: bool = True,
    say: Callable[[str], None] | None = None,
    workers: int | None = 1,
) -> CampaignResult:
    """Run every stage of the campaign here; store, build and return what it made.

    Everything that can be checked before a job runs is checked first (calculators, every
    flow that can be built now, the potentials entries); a transport entry on a potential of
    this campaign's potentials stage is built once that stage has run. ``say`` receives one
    line per entry (progress). ``workers`` > 1 (None: one per independent part, at most one
    per core) runs independent parts side by side, one process each
    (:mod:`interfacial.campaign.lanes`); 1 runs every entry in file order, here.
    """
    from interfacial.campaign.lanes import independent_groups, plan_lanes, run_lanes
    from interfacial.settings import get_settings
    from interfacial.stores import check_writable

    settings = settings or get_settings()
    calculators = {campaign.calculators.surfaces, campaign.calculators.interfaces}
    calculators |= {spec.calculator or settings.calculator for spec in campaign.potentials}
    for screen in campaign.screen:
        calculators |= set(campaign.screen_calculators(screen))
    for calculator in calculators:
        engines.calculator(calculator).check_can_run_locally(settings)
    steps = campaign.steps(settings, local=True)
    lanes = plan_lanes(independent_groups(campaign, steps), workers)
    check_writable(settings)
    numbered = [[(i + 1, steps[i]) for i in lane] for lane in lanes]
    options: dict[str, Any] = {"show_progress": show_progress, "say": say, "total": len(steps)}
    if len(numbered) == 1:
        outputs = run_steps(campaign, numbered[0], settings, **options)
    else:
        outputs = run_lanes(campaign, numbered, settings, run_steps, **options)
    return _assemble(campaign, outputs, settings)


def run_steps(
    campaign: Campaign,
    steps: list[tuple[int, Step]],
    settings: InterfacialSettings,
    *,
    show_progress: bool,
    say: Callable[[str], None] | None,
    total: int,
) -> dict[int, dict[str, Any]]:
    """Run these steps (numbered in the campaign) in order; what each made, by number.

    Surfaces and interfaces are built (and their documents collected) before a later step
    of the same run, which may read them; D* documents are built once every step has run
    (:func:`_assemble`), so runs side by side never run builders at once.
    """
    from interfacial.api import (
        build,
        learn_potential,
        query_interfaces,
        query_surfaces,
        run_directory,
    )
    from interfacial.runner import run_flow
    from interfacial.stores import get_job_store

    store = get_job_store(settings)
    outputs: dict[int, dict[str, Any]] = {}
    energetics: list[tuple[int, Step]] = []

    def collect_energetics() -> None:
        # One build for every surface and interface flow, then this run's documents.
        if not energetics:
            return
        build(settings)
        surfaces = query_surfaces(latest_only=False, settings=settings)
        interfaces = query_interfaces(lowest_only=False, latest_only=False, settings=settings)
        for n, step in energetics:
            assert step.flow is not None
            uuids = set(step.flow.job_uuids)
            if step.stage == "surfaces":
                outputs[n] = {"surfaces": [d for d in surfaces if d["bulk_uuid"] in uuids]}
            else:
                outputs[n] = {
                    "interfaces": [d for d in interfaces if d["metal_bulk_uuid"] in uuids]
                }
        energetics.clear()

    for n, step in steps:
        if say:
            say(f"[{n}/{total}] {step.stage}: {step.name}")
        if step.stage in ("surfaces", "interfaces"):
            assert step.flow is not None
            run_flow(step.flow, store, run_directory(settings), show_progress=show_progress)
            energetics.append((n, step))
            continue
        collect_energetics()
        if step.stage == "screen":
            assert step.flow is not None
            run_flow(step.flow, store, run_directory(settings), show_progress=show_progress)
            build(settings)
            outputs[n] = {"screenings": [_screening(step.flow, settings)]}
            continue
        if step.stage == "potentials":
            spec = campaign.potentials[step.index]
            learned = learn_potential(
                spec.structure,
                settings=settings,
                show_progress=show_progress,
                **spec.learn_options(),
            )
            if learned["final_fit"]["system"] != step.name:
                raise InterfacialError(
                    f"potentials[{step.index}] ({spec.structure}) was stored as "
                    f"{learned['final_fit']['system']!r}, not {step.name!r}"
                )
            outputs[n] = {"potentials": [learned]}
            continue
        flow = step.flow or campaign.transport_flow(
            campaign.transport[step.index], settings, local=True
        )
        assert flow is not None
        run_flow(flow, store, run_directory(settings), show_progress=show_progress)
        outputs[n] = {
            "transport_uuids": sorted(flow.job_uuids),
            "arrhenius": _output(flow, settings),
        }
    collect_energetics()
    return outputs


def _assemble(
    campaign: Campaign, outputs: dict[int, dict[str, Any]], settings: InterfacialSettings
) -> CampaignResult:
    """Documents of the run in campaign order; D* documents built and collected here."""
    from interfacial.api import build, query_diffusion

    result = CampaignResult(campaign)
    diffusion: list[dict[str, Any]] = []
    if any("transport_uuids" in output for output in outputs.values()):
        build(settings)
        diffusion = query_diffusion(settings=settings)
    for n in sorted(outputs):
        output = outputs[n]
        for name in ("screenings", "surfaces", "interfaces", "potentials", "arrhenius"):
            getattr(result, name).extend(output.get(name, []))
        uuids = set(output.get("transport_uuids", []))
        result.diffusion += [d for d in diffusion if d.get("task_uuid") in uuids]
    return result


def _screening(flow: Flow, settings: InterfacialSettings) -> dict[str, Any]:
    """The screening document of a screen flow just run (keyed by its summary job's uuid)."""
    from interfacial.api.screening import query_screening
    from interfacial.schemas.roles import Role, tagged_job

    run = tagged_job(flow, Role.SCREENING).uuid
    found = [d for d in query_screening(settings, latest_only=False) if d.get("run_uuid") == run]
    if not found:
        raise InterfacialError(f"the screen '{flow.name}' finished without its screening document")
    return found[0]


def _output(flow: Flow, settings: InterfacialSettings) -> list[dict[str, Any]]:
    """The stored output of a flow (its output job's newest document)."""
    from interfacial.stores import get_job_store

    store = get_job_store(settings)
    store.connect()
    try:
        doc = store.query_one({"uuid": flow.output.uuid}, sort={"index": -1})
    finally:
        store.close()
    if doc is None:
        raise InterfacialError(f"the flow '{flow.name}' finished without its output document")
    return list(doc["output"])


def run_file(
    path: str | Path,
    settings: InterfacialSettings | None = None,
    *,
    show_progress: bool = True,
    say: Callable[[str], None] | None = None,
    workers: int | None = 1,
) -> CampaignResult:
    """Load a campaign file and :func:`run` it here (``workers``: see :func:`run`)."""
    return run(load_campaign(path), settings, show_progress=show_progress, say=say, workers=workers)


def demo_file() -> Path:
    """The demo campaign shipped inside the package (``workflows/demo.yaml`` of the sources)."""
    from importlib.resources import files

    return Path(str(files("interfacial") / "workflows" / "demo.yaml"))


def run_demo(
    out_dir: Path,
    settings: InterfacialSettings | None = None,
    *,
    show_progress: bool = True,
    say: Callable[[str], None] | None = None,
    workers: int | None = None,
) -> CampaignResult:
    """Run the demo campaign here, then write the figures of the report to ``out_dir``.

    ``workers``: as :func:`run`; by default its independent parts (surfaces and interfaces;
    the potential and its transport) run side by side on a machine with two cores or more.
    """
    from interfacial.api import query_surfaces, report
    from interfacial.validation import check_output_directory

    # The figures come last: a bad directory must not surface after the whole run.
    check_output_directory(out_dir, "report directory")
    campaign = load_campaign(demo_file())
    if say:
        say(campaign.description.strip())  # what the demo cut, and how the study differs
    result = run(campaign, settings, show_progress=show_progress, say=say, workers=workers)
    result.report = report(out_dir, settings)
    result.stored_surfaces = len(query_surfaces(settings=settings))
    return result
