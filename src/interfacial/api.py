"""The Python API behind the command line: run flows, build, query, report.

Every function validates its input completely before it opens a store, so bad input writes
nothing.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

from interfacial import engines
from interfacial.conventions import system_name
from interfacial.errors import InterfacialError
from interfacial.schemas.roles import Role, role_filter
from interfacial.settings import InterfacialSettings, get_settings
from interfacial.stores import (
    ARRHENIUS,
    DIFFUSION,
    INTERFACES,
    SURFACE_MATERIALS,
    SURFACES,
    check_writable,
    derived_store,
    get_job_store,
)


def _clean(doc: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in doc.items() if k != "_id"}


def surface_flow(
    structure: str | Path,
    *,
    max_index: int = 1,
    millers: list[list[int]] | None = None,
    calculator: str | None = None,
    min_thickness: float = 8.0,
    max_thickness: float = 30.0,
    vacuum: float = 15.0,
    settings: InterfacialSettings | None = None,
) -> Any:
    """Validate the input and return the surface-energy Flow (not run)."""
    from pymatgen.symmetry.analyzer import SpacegroupAnalyzer

    from interfacial.structures.library import load_structure, structure_label

    settings = settings or get_settings()
    bulk = load_structure(structure)
    maker = engines.calculator(calculator or settings.calculator).surface_energy_maker(
        settings,
        max_index=max_index,
        millers=millers,
        min_thickness=min_thickness,
        max_thickness=max_thickness,
        vacuum=vacuum,
    )
    maker.facets(SpacegroupAnalyzer(bulk).get_conventional_standard_structure())
    return maker.make(bulk, structure_label(structure, bulk))


def run_surfaces(
    structure: str | Path,
    *,
    settings: InterfacialSettings | None = None,
    show_progress: bool = True,
    **flow_kwargs: Any,
) -> list[dict[str, Any]]:
    """Run the surface-energy flow locally, build, and return the per-termination documents."""
    from interfacial.flows.surface import bulk_relaxation
    from interfacial.runner import run_flow

    settings = settings or get_settings()
    flow = surface_flow(structure, settings=settings, **flow_kwargs)
    engines.calculator(flow_kwargs.get("calculator") or settings.calculator).check_can_run_locally(
        settings
    )
    check_writable(settings)
    run_flow(flow, get_job_store(settings), run_directory(settings), show_progress=show_progress)
    bulk_uuid = bulk_relaxation(flow).uuid
    build(settings, query={"uuid": bulk_uuid})
    return query_surfaces(settings=settings, bulk_uuid=bulk_uuid)


def run_directory(settings: InterfacialSettings) -> Path:
    """Where local runs keep one folder per job: ``<data_dir>/runs``."""
    return settings.data_dir.expanduser().resolve() / "runs"


def build(
    settings: InterfacialSettings | None = None, query: dict[str, Any] | None = None
) -> dict[str, int]:
    """Run the builders: surfaces, interfaces (they read the surfaces), D*, then Arrhenius fits.

    ``query`` filters the surface builder's bulk task documents. Returns how many groups each
    builder rebuilt.
    """
    from maggma.core import Builder

    from interfacial.builders.diffusion import ArrheniusBuilder, DiffusionBuilder
    from interfacial.builders.interface import InterfaceBuilder
    from interfacial.builders.surface import SurfaceBuilder

    settings = settings or get_settings()
    check_writable(settings)

    def run(builder: Builder) -> int:
        builder.connect()
        try:
            results = [builder.process_item(item) for item in builder.get_items()]
            builder.update_targets(results)
        finally:
            for store in (*builder.sources, *builder.targets):
                store.close()
        return len(results)

    counts = {
        "surfaces": run(
            SurfaceBuilder(
                get_job_store(settings).docs_store,
                derived_store(SURFACES, "surface_id", settings),
                derived_store(SURFACE_MATERIALS, "bulk_uuid", settings),
                query=query,
            )
        )
    }
    counts["interfaces"] = run(
        InterfaceBuilder(
            get_job_store(settings).docs_store,
            derived_store(SURFACES, "surface_id", settings),
            derived_store(INTERFACES, "model_id", settings),
        )
    )
    counts["diffusion"] = run(
        DiffusionBuilder(
            get_job_store(settings).docs_store, derived_store(DIFFUSION, "diffusion_id", settings)
        )
    )
    counts["arrhenius"] = run(
        ArrheniusBuilder(
            derived_store(DIFFUSION, "diffusion_id", settings),
            derived_store(ARRHENIUS, "arrhenius_id", settings),
        )
    )
    return counts


def _keep_newest(
    docs: list[dict[str, Any]],
    group: Callable[[dict[str, Any]], Any],
    run: Callable[[dict[str, Any]], Any],
) -> list[dict[str, Any]]:
    """Keep, in each ``group``, the documents of the ``run`` that finished last.

    Ranked by ``flow_completed_at`` (when the run's terminal job finished), not by
    ``last_updated`` (when a builder wrote the document): see interfacial.builders.completion.
    """
    newest: dict[Any, dict[str, Any]] = {}
    for d in docs:
        if group(d) not in newest or _finished(d) > _finished(newest[group(d)]):
            newest[group(d)] = d
    return [d for d in docs if run(newest[group(d)]) == run(d)]


def _finished(doc: dict[str, Any]) -> tuple[str, Any]:
    return (str(doc.get("flow_completed_at") or ""), doc["last_updated"])


def _read(name: str, key: str, criteria: dict[str, Any], settings: InterfacialSettings) -> list:
    check_writable(settings)
    store = derived_store(name, key, settings)
    store.connect()
    try:
        return [_clean(d) for d in store.query(criteria)]
    finally:
        store.close()


def query_surfaces(
    formula: str | None = None,
    *,
    material: str | None = None,
    bulk_uuid: str | None = None,
    latest_only: bool = True,
    settings: InterfacialSettings | None = None,
) -> list[dict[str, Any]]:
    """Per-termination surface documents, sorted by material, facet and termination.

    With ``latest_only`` (default) a termination computed several times with the same calculator
    (by the surface flow, or by the surface part of an interface flow) shows only its newest
    calculation (the run whose flow finished last; runs that did not finish are never built).
    """
    settings = settings or get_settings()
    criteria: dict[str, Any] = {}
    if formula:
        from pymatgen.core import Composition, Element

        try:
            composition = Composition(formula)
            valid = all(isinstance(el, Element) for el in composition.elements)
        except Exception:  # pymatgen raises several types for unparsable formulas
            valid = False
        if not valid:
            raise InterfacialError(f"'{formula}' is not a chemical formula; e.g. Li2S")
        criteria["formula"] = composition.reduced_formula
    if material:
        criteria["material"] = material
    if bulk_uuid:
        criteria["bulk_uuid"] = bulk_uuid
    docs = _read(SURFACES, "surface_id", criteria, settings)
    if latest_only and not bulk_uuid:
        docs = _keep_newest(
            docs,
            lambda d: (
                d["material"],
                d["calculator"],
                str(d["miller_index"]),
                d.get("termination"),
            ),
            lambda d: d["bulk_uuid"],
        )
    return sorted(
        docs,
        key=lambda d: (
            d["material"],
            d["miller_index"],
            d.get("termination") or "",
            d["bulk_uuid"],
        ),
    )


def query_surface_materials(settings: InterfacialSettings | None = None) -> list[dict[str, Any]]:
    """Per-material Wulff documents."""
    return _read(SURFACE_MATERIALS, "bulk_uuid", {}, settings or get_settings())


def report(out_dir: Path, settings: InterfacialSettings | None = None) -> list[Path]:
    """Write the figures: Wulff shapes, adhesion bars, interface models, MTP parity plots.

    One Wulff shape per material and calculator (the one with the most facets, newest first;
    documents whose facets enclose no shape are skipped); one bar
    chart of E_f, sigma and W per interface (Li and Na panels); one side view per interface.
    """
    from interfacial.plots import adhesion_bars, wulff_figure

    settings = settings or get_settings()
    # Per material and calculator, the shape with the most facets (a single-facet run of an
    # interface flow must not hide a full Wulff shape), the newest of those.
    best: dict[tuple[str, str], dict[str, Any]] = {}
    for doc in query_surface_materials(settings):
        if doc.get("weighted_surface_energy") is None:
            continue
        key = (doc["material"], doc["calculator"])
        rank = (len(doc["facets"]), _finished(doc))
        if key not in best or rank > (len(best[key]["facets"]), _finished(best[key])):
            best[key] = doc
    paths = [
        wulff_figure(doc, out_dir / f"wulff_{material}_{calculator}.png")
        for (material, calculator), doc in sorted(best.items())
    ]
    interfaces = query_interfaces(settings=settings)
    for calculator in sorted({d["calculator"] for d in interfaces}):
        docs = [d for d in interfaces if d["calculator"] == calculator]
        paths.append(adhesion_bars(docs, out_dir / f"adhesion_{calculator}.png"))
    paths.extend(_model_pictures(interfaces, out_dir, settings))
    paths.extend(_parity_plots(out_dir, settings))
    paths.extend(_transport_plots(out_dir, settings))
    return paths


def query_diffusion(
    system: str | None = None,
    *,
    temperature: float | None = None,
    settings: InterfacialSettings | None = None,
) -> list[dict[str, Any]]:
    """Diffusion documents (MSD curves and D* per group and component), by system and T."""
    settings = settings or get_settings()
    criteria: dict[str, Any] = {}
    if system:
        criteria["system"] = system
    if temperature is not None:
        criteria["temperature"] = float(temperature)
    docs = _read(DIFFUSION, "diffusion_id", criteria, settings)
    return sorted(
        docs, key=lambda d: (d["system"], str(d.get("potential_sha256")), d["temperature"])
    )


def query_arrhenius(
    system: str | None = None, *, settings: InterfacialSettings | None = None
) -> list[dict[str, Any]]:
    """Arrhenius documents (Ea in meV, D0 in cm^2/s) per system, group and component."""
    settings = settings or get_settings()
    docs = _read(ARRHENIUS, "arrhenius_id", {"system": system} if system else {}, settings)
    return sorted(docs, key=lambda d: (d["system"], d["group"], d["component"]))


def save_diffusion(document: Any, settings: InterfacialSettings | None = None) -> None:
    """Write a DiffusionDocument (e.g. from ``interfacial diffusion --save``) to the database.

    It joins the ``diffusion`` collection next to the MD-derived ones, so the Arrhenius builder
    fits it with the others of its system.
    """
    settings = settings or get_settings()
    check_writable(settings)
    store = derived_store(DIFFUSION, "diffusion_id", settings)
    store.connect()
    try:
        store.update([document.model_dump()], key="diffusion_id")
    finally:
        store.close()


def _newest_output(
    role: Role, system: str, settings: InterfacialSettings | None
) -> dict[str, Any] | None:
    """The newest task document of ``role`` for ``system`` with its data-store fields loaded.

    None when there is none or its job has no output (failed).
    """
    settings = settings or get_settings()
    check_writable(settings)
    store = get_job_store(settings)
    store.connect()
    try:
        doc = store.query_one(
            role_filter(role, system=system),
            sort={"completed_at": -1},
            load=True,
        )
    finally:
        store.close()
    return doc if doc is not None and isinstance(doc.get("output"), dict) else None


def load_potential(
    spec: str | Path,
    species_order: list[str] | None = None,
    settings: InterfacialSettings | None = None,
) -> Any:
    """A fitted MTP: ``store:SYSTEM`` (the newest fit of SYSTEM in the database) or a .mtp file.

    A .mtp file does not say which element each type is: ``species_order`` is then required.
    """
    from interfacial.mtp.potential import MTPPotential

    text = str(spec)
    if text.startswith("store:"):
        system = text.removeprefix("store:")
        doc = _newest_output(Role.MTP_FIT, system, settings)
        if doc is None:
            raise InterfacialError(
                f"no fitted potential for system {system!r} in the database: run "
                "`interfacial fit-mtp` first, or give a .mtp file with --species"
            )
        return MTPPotential.from_dict(doc["output"]["potential"])
    path = Path(text)
    if not path.is_file():
        raise InterfacialError(f"no such potential file {path} (or use store:SYSTEM)")
    if not species_order:
        raise InterfacialError(
            f"{path} does not say which element each MLIP type is: give --species, e.g. S,Li"
        )
    return MTPPotential.from_file(path, species_order)


def training_set(system: str, settings: InterfacialSettings | None = None) -> dict[str, Any] | None:
    """The newest reference-MD training set of ``system`` (.cfg text), or None if there is none.

    For grading transport frames against a potential fitted on it (active learning may have
    added configurations since: grades against this set are then slightly pessimistic).
    """
    doc = _newest_output(Role.TRAINING_SETS, system, settings)
    if doc is None:
        return None
    return {
        "cfg": doc["output"]["training_cfg"],
        "source": f"reference-MD training set of {system} (job {doc['uuid']})",
    }


def load_md_structure(
    spec: str | Path, settings: InterfacialSettings | None = None
) -> tuple[Any, str]:
    """The cell of a transport run and its label.

    ``interface:METAL(hkl)|COMPOUND(hkl)`` (e.g. ``interface:Li(110)|Li2S(110)``) is the relaxed
    lowest-E_f model of the newest calculation of that interface in the database, with its
    site property ``region``; anything else is a built-in name or a structure file.
    """
    import re

    from interfacial.structures.library import load_structure, structure_label

    text = str(spec)
    if not text.startswith("interface:"):
        structure = load_structure(text)
        return structure, structure_label(text, structure)
    match = re.fullmatch(
        r"interface:([A-Z][a-z]?)\((\d)(\d)(\d)\)\|(\w+)\((\d)(\d)(\d)\)", text.replace(" ", "")
    )
    if match is None:
        raise InterfacialError(
            f"'{text}' is not interface:METAL(hkl)|COMPOUND(hkl), e.g. interface:Li(110)|Li2S(110)"
        )
    metal, compound = match.group(1), match.group(5)
    metal_miller = [int(match.group(i)) for i in (2, 3, 4)]
    compound_miller = [int(match.group(i)) for i in (6, 7, 8)]
    settings = settings or get_settings()
    docs = [
        d
        for d in query_interfaces(metal, compound, settings=settings)
        if list(d["metal_miller"]) == metal_miller and list(d["compound_miller"]) == compound_miller
    ]
    if not docs:
        raise InterfacialError(
            f"no {text.removeprefix('interface:')} interface in the database: run `interfacial "
            "interface` (and `interfacial build`) first"
        )
    from pymatgen.core import Structure

    tasks = get_job_store(settings).docs_store
    tasks.connect()
    try:
        task = tasks.query_one(
            {"uuid": docs[0]["interface_uuid"]}, properties=["output.structure"], sort={"index": -1}
        )
    finally:
        tasks.close()
    if task is None:
        raise InterfacialError(f"the relaxed model of {text} is missing from the task documents")
    structure = Structure.from_dict(task["output"]["structure"])
    if "region" not in structure.site_properties:
        raise InterfacialError(f"the stored model of {text} has no site property 'region'")
    label = (
        f"{metal}({''.join(map(str, metal_miller))})|"
        f"{compound}({''.join(map(str, compound_miller))})"
    )
    return structure, label


def run_transport(
    structure: Any,
    potential: Any,
    *,
    label: str | None = None,
    settings: InterfacialSettings | None = None,
    show_progress: bool = True,
    training: dict[str, Any] | None = None,
    **maker_kwargs: Any,
) -> list[dict[str, Any]]:
    """Transport MD over a temperature ladder on the embedded path; build; return the fits.

    ``structure`` is a name, a file or a Structure; ``potential`` an MTPPotential (see
    :func:`load_potential`); ``training`` its training set (:func:`training_set`) to grade
    the production frames against; ``maker_kwargs`` go to EmbeddedDiffusionMDMaker
    (temperatures, steps, vacancies, ...). Returns the Arrhenius summary (one dict per group
    and component); the D* documents are in the ``diffusion`` collection afterwards.
    """
    from pymatgen.core import Structure

    from interfacial.flows.diffusion import EmbeddedDiffusionMDMaker
    from interfacial.runner import run_flow

    settings = settings or get_settings()
    if isinstance(structure, Structure):
        cell, name = structure, label or structure.composition.reduced_formula
    else:
        cell, default_label = load_md_structure(structure, settings)
        name = label or default_label
    maker_kwargs.setdefault(
        "work_dir", str((settings.md_dir or settings.data_dir / "md").resolve())
    )
    maker = EmbeddedDiffusionMDMaker(**maker_kwargs)
    with warnings.catch_warnings():
        # Cells with charge-compensated vacancies carry a charge on purpose.
        warnings.filterwarnings("ignore", message="Structure charge .* is set to be not equal")
        flow = maker.make(cell, potential, name, training=training)
    check_writable(settings)
    store = get_job_store(settings)
    run_flow(flow, store, run_directory(settings), show_progress=show_progress)
    build(settings)
    store.connect()
    try:
        doc = store.query_one({"uuid": flow.jobs[-1].uuid}, sort={"index": -1})
    finally:
        store.close()
    if doc is None:
        raise InterfacialError("the transport flow finished without its Arrhenius summary")
    return list(doc["output"])


def analyse_trajectory(
    paths: list[Path],
    temperature: float,
    *,
    time_step_fs: float | None = None,
    species_order: list[str] | None = None,
    system: str | None = None,
    group_specs: list[str] | None = None,
    structure: Path | None = None,
    mobile: str = "Li",
    fit_window: tuple[float, float] | None = None,
    components: list[str] | None = None,
    origin_interval: int | None = None,
    fmt: str | None = None,
    show_progress: bool = False,
) -> Any:
    """D* of a trajectory file (LAMMPS dump(s), ASE .traj, XDATCAR), streamed frame by frame.

    Groups: every element, "<mobile> metal"/"<mobile> compound" when ``structure`` (an interface
    model with the site property ``region``, same atoms in the same order) is given, plus
    ``group_specs`` ("NAME=SPEC", see :func:`interfacial.trajectory.parse_group`; ids are the
    trajectory's own, e.g. LAMMPS ids). Frames to document:
    :func:`interfacial.diffusion.diffusion_document`, as for the transport MD job. A
    temperature the files themselves record (ASE momenta, or the run record next to dumps
    written by our MD runner, see :func:`interfacial.trajectory.measured_temperature`) must
    agree with ``temperature`` within 15 %. Every input is checked before the MSD pass; nothing
    is written.

    Parameters
    ----------
    paths : list of Path
        Trajectory file(s); several files are consecutive segments of one run, in order.
    temperature : float
        Temperature of the run (K).
    time_step_fs : float, optional
        LAMMPS: MD time step (fs); XDATCAR, .traj, extxyz: time between stored frames (fs).
    species_order : list of str, optional
        Element of LAMMPS atom type 1, 2, ...
    system : str, optional
        Name the document is filed under; the first file's stem by default.
    group_specs : list of str, optional
        Extra groups ``NAME=SPEC``.
    structure : Path, optional
        Interface model with the site property ``region``.
    mobile : str
        Element whose atoms are split by region.
    fit_window : (float, float), optional
        MSD fit window (ps); the default rule otherwise.
    components : list of str, optional
        Components to fit; in-plane, out-of-plane and total by default.
    origin_interval : int, optional
        Frames between MSD time origins (1).
    fmt : str, optional
        Trajectory format, guessed from the file names when omitted.
    show_progress : bool
        Progress bar on stderr.

    Returns
    -------
    DiffusionDocument
        Source "trajectory"; D* in cm^2/s.

    Raises
    ------
    InterfacialError
        Any bad input (files, format, time step, species, structure, groups, temperature, fit
        window), with a message naming what to change.

    """
    import math

    from interfacial.diffusion import diffusion_document
    from interfacial.trajectory import (
        default_groups,
        iter_frames,
        measured_temperature,
        parse_group,
        recorded_md_plan,
    )

    if not (temperature > 0 and math.isfinite(temperature)):
        raise InterfacialError(f"--temperature must be a positive number of K, got {temperature}")
    files = [Path(p) for p in paths]
    missing = [str(p) for p in files if not p.is_file()]
    if missing:
        raise InterfacialError(f"no such trajectory file: {', '.join(missing)}")
    source: Any = files if len(files) > 1 else files[0]
    recorded = recorded_md_plan(source)
    if recorded is not None:
        # Our own run: its record knows the step and the types; a different value is an error.
        if time_step_fs is None:
            time_step_fs = recorded["time_step_fs"]
        elif not math.isclose(time_step_fs, recorded["time_step_fs"], rel_tol=1e-9):
            raise InterfacialError(
                f"--time-step {time_step_fs:g} fs contradicts the run record next to the dumps "
                f"({recorded['time_step_fs']:g} fs): leave --time-step out"
            )
        if species_order is None:
            species_order = recorded["species_order"]
        elif list(species_order) != recorded["species_order"]:
            raise InterfacialError(
                f"--species {','.join(species_order)} contradicts the run record next to the "
                f"dumps ({','.join(recorded['species_order'])}): leave --species out"
            )

    def frames() -> Any:
        return iter_frames(source, fmt=fmt, time_step_fs=time_step_fs, species_order=species_order)

    first = next(iter(frames()))
    regions = None
    if structure is not None:
        from interfacial.structures.library import load_structure

        model = load_structure(structure)
        regions = model.site_properties.get("region")
        if regions is None:
            raise InterfacialError(
                f"{structure} has no site property 'region': give an interface model"
            )
        if len(regions) != len(first.symbols):
            raise InterfacialError(
                f"{structure} has {len(regions)} sites but the trajectory {len(first.symbols)} "
                "atoms: give the structure the run started from"
            )
        species = [site.specie.symbol for site in model]
        for k, (a, b) in enumerate(zip(species, first.symbols, strict=True)):
            if a != b:
                raise InterfacialError(
                    f"{structure}: site {k} is {a} but atom {k} of the trajectory is {b}: give "
                    "the structure the run started from, sites in the order of the atoms "
                    "(LAMMPS: by id; check --species)"
                )
    groups = default_groups(first.symbols, regions, mobile=mobile)
    ids = None if first.ids is None else [int(i) for i in first.ids]
    for spec in group_specs or []:
        name, indices = parse_group(spec, first.symbols, regions, ids=ids)
        if name in groups and groups[name] != indices:
            raise InterfacialError(
                f"--group {spec!r}: the name {name!r} is taken by another group (groups: "
                f"{', '.join(groups)}); choose another name"
            )
        groups[name] = indices
    measured = measured_temperature(source, fmt=fmt)
    if measured is not None and abs(measured - temperature) > 0.15 * temperature:
        raise InterfacialError(
            f"the trajectory ran at {measured:.0f} K on average, not {temperature:g} K: "
            "check --temperature"
        )
    return diffusion_document(
        frames(),
        groups,
        system=system or files[0].stem,
        temperature=temperature,
        source="trajectory",
        components=components,
        fit_window=fit_window,
        origin_interval=origin_interval or 1,
        progress=show_progress,
        trajectory_files=[p.resolve() for p in files],
    )


def _transport_plots(out_dir: Path, settings: InterfacialSettings) -> list[Path]:
    """MSD curves per system and temperature, Arrhenius plots, in-plane vs out-of-plane bars."""
    from interfacial.plots import anisotropy_bars, arrhenius_figure, msd_figure, safe_filename

    docs = query_diffusion(settings=settings)
    paths = [
        msd_figure(doc, out_dir / f"msd_{safe_filename(doc['system'])}_{doc['temperature']:g}K.png")
        for doc in docs
    ]
    by_system: dict[tuple[str, Any], list[dict[str, Any]]] = {}
    for fit in query_arrhenius(settings=settings):
        by_system.setdefault((fit["system"], fit.get("potential_sha256")), []).append(fit)
    for (system, _), fits in sorted(by_system.items(), key=lambda kv: kv[0][0]):
        paths.append(
            arrhenius_figure(system, fits, out_dir / f"arrhenius_{safe_filename(system)}.png")
        )
    if docs:
        paths.append(anisotropy_bars(docs, out_dir / "diffusion_in_vs_out_of_plane.png"))
    return paths


def _parity_plots(out_dir: Path, settings: InterfacialSettings) -> list[Path]:
    """One parity plot per fitted system (its newest fit), from the stored parity data."""
    from interfacial.plots import parity_plot

    store = get_job_store(settings)
    store.connect()
    try:
        fits = list(store.query(role_filter(Role.MTP_FIT), load=True, sort={"index": 1}))
    finally:
        store.close()
    newest: dict[str, dict[str, Any]] = {}
    for fit in fits:
        output = fit.get("output") or {}
        if output.get("parity") and str(fit["completed_at"]) >= str(
            newest.get(output["system"], {}).get("completed_at", "")
        ):
            newest[output["system"]] = fit
    return [
        parity_plot(system, fit["output"]["parity"], out_dir / f"parity_{system}.png")
        for system, fit in sorted(newest.items())
    ]


def _model_pictures(
    docs: list[dict[str, Any]], out_dir: Path, settings: InterfacialSettings
) -> list[Path]:
    """Side views of the relaxed models (read from their task documents)."""
    from pymatgen.core import Structure

    from interfacial.plots import interface_picture

    if not docs:
        return []
    tasks = get_job_store(settings).docs_store
    tasks.connect()
    try:
        paths = []
        for d in docs:
            task = tasks.query_one(
                {"uuid": d["interface_uuid"]}, properties=["output.structure"], sort={"index": -1}
            )
            if task is None:
                continue
            name = (
                f"{d['metal']}{''.join(map(str, d['metal_miller']))}_"
                f"{d['compound']}{''.join(map(str, d['compound_miller']))}_{d['calculator']}"
            )
            title = (
                f"{d['metal']}{d['metal_miller']} || {d['compound']}{d['compound_miller']} "
                f"{d['metal_termination']}|{d['compound_termination']}\n"
                f"E_f {d['E_f']:.3f}, W {d['W_adhesion']:.3f} J/m^2, {d['n_atoms']} atoms"
            )
            structure = Structure.from_dict(task["output"]["structure"])
            paths.append(interface_picture(structure, title, out_dir / f"model_{name}.png"))
        return paths
    finally:
        tasks.close()


def _interface_bulks(metal: str | Path, compound: str | Path) -> tuple[Any, Any, str, str]:
    """Load both sides (conventional standard cells) and check they make a metal||compound pair."""
    from pymatgen.symmetry.analyzer import SpacegroupAnalyzer

    from interfacial.structures.library import load_structure, structure_label

    structures = []
    for name in (metal, compound):
        structure = load_structure(name)
        conventional = SpacegroupAnalyzer(structure).get_conventional_standard_structure()
        structures.append((conventional, structure_label(name, structure)))
    (metal_bulk, metal_label), (compound_bulk, compound_label) = structures
    elements = metal_bulk.composition.elements
    if len(elements) != 1 or not elements[0].is_alkali:
        raise InterfacialError(
            f"the metal side must be an elemental alkali metal (Li, Na, K, ...); "
            f"{metal_label} is {metal_bulk.composition.reduced_formula}"
        )
    if elements[0] not in compound_bulk.composition:
        raise InterfacialError(
            f"{compound_label} contains no {elements[0].symbol}: the compound side must be a "
            f"decomposition product holding the metal's element (e.g. {elements[0].symbol}2S)"
        )
    return metal_bulk, compound_bulk, metal_label, compound_label


def match(
    metal: str | Path,
    compound: str | Path,
    metal_miller: Any,
    compound_miller: Any,
    **options: Any,
) -> list[dict[str, Any]]:
    """Lattice-match a metal facet on a compound facet (geometry only, seconds).

    ``options`` go to :func:`interfacial.structures.matching.find_matches` (max_area,
    max_mismatch, max_angle_mismatch, metal_thickness, compound_thickness).
    """
    from interfacial.structures.matching import find_matches
    from interfacial.structures.slabs import parse_miller

    metal_bulk, compound_bulk, _, _ = _interface_bulks(metal, compound)
    candidates = find_matches(
        metal_bulk,
        compound_bulk,
        list(parse_miller(metal_miller)),
        list(parse_miller(compound_miller)),
        **{k: v for k, v in options.items() if v is not None},
    )
    return [c.as_dict() for c in candidates]


def interface_flow(
    metal: str | Path,
    compound: str | Path,
    metal_miller: Any,
    compound_miller: Any,
    *,
    calculator: str | None = None,
    surface_kwargs: dict[str, Any] | None = None,
    settings: InterfacialSettings | None = None,
    **maker_kwargs: Any,
) -> Any:
    """Validate the input and return the interface-energetics Flow (not run).

    The geometry (matching, candidate choice and every model) is built once on the unrelaxed
    structures so that an impossible request fails here, before anything is stored.
    """
    from interfacial.structures.interfaces import build_interface_models
    from interfacial.structures.matching import find_matches, select_candidates
    from interfacial.structures.slabs import parse_miller

    settings = settings or get_settings()
    metal_bulk, compound_bulk, metal_label, compound_label = _interface_bulks(metal, compound)
    metal_hkl, compound_hkl = list(parse_miller(metal_miller)), list(parse_miller(compound_miller))
    engine = engines.calculator(calculator or settings.calculator)
    maker = engine.interface_energetics_maker(
        settings,
        engine.surface_energy_maker(
            settings, **{k: v for k, v in (surface_kwargs or {}).items() if v is not None}
        ),
        **{k: v for k, v in maker_kwargs.items() if v is not None},
    )
    candidates = find_matches(
        metal_bulk, compound_bulk, metal_hkl, compound_hkl, **maker.match_options()
    )
    for index in select_candidates(candidates, maker.max_atoms, maker.n_candidates):
        build_interface_models(
            metal_bulk, compound_bulk, candidates[index], **maker.model_options()
        )
    return maker.make(
        metal_bulk, compound_bulk, metal_hkl, compound_hkl, metal_label, compound_label
    )


def run_interface(
    metal: str | Path,
    compound: str | Path,
    metal_miller: Any,
    compound_miller: Any,
    *,
    settings: InterfacialSettings | None = None,
    show_progress: bool = True,
    **flow_kwargs: Any,
) -> list[dict[str, Any]]:
    """Run the interface-energetics flow locally, build, and return this run's documents."""
    from interfacial.flows.interface import bulk_relaxations
    from interfacial.runner import run_flow

    settings = settings or get_settings()
    flow = interface_flow(
        metal, compound, metal_miller, compound_miller, settings=settings, **flow_kwargs
    )
    engines.calculator(flow_kwargs.get("calculator") or settings.calculator).check_can_run_locally(
        settings
    )
    check_writable(settings)
    run_flow(flow, get_job_store(settings), run_directory(settings), show_progress=show_progress)
    metal_bulk_uuid = bulk_relaxations(flow)["metal"].uuid
    build(settings)
    return query_interfaces(settings=settings, metal_bulk_uuid=metal_bulk_uuid, lowest_only=False)


def query_interfaces(
    metal: str | None = None,
    compound: str | None = None,
    *,
    metal_bulk_uuid: str | None = None,
    lowest_only: bool = True,
    latest_only: bool = True,
    settings: InterfacialSettings | None = None,
) -> list[dict[str, Any]]:
    """Interface documents, sorted by metal, compound and facets.

    ``lowest_only`` keeps the lowest-E_f model of each interface; ``latest_only`` keeps the
    newest calculation of each (metal facet, compound facet, calculator).
    """
    settings = settings or get_settings()
    criteria: dict[str, Any] = {}
    if metal:
        criteria["metal"] = metal
    if compound:
        criteria["compound"] = compound
    if metal_bulk_uuid:
        criteria["metal_bulk_uuid"] = metal_bulk_uuid
    if lowest_only:
        criteria["is_lowest"] = True
    docs = _read(INTERFACES, "model_id", criteria, settings)
    if latest_only and not metal_bulk_uuid:
        docs = _keep_newest(
            docs,
            lambda d: (
                d["metal"],
                str(d["metal_miller"]),
                d["compound"],
                str(d["compound_miller"]),
                d["calculator"],
            ),
            lambda d: d["metal_bulk_uuid"],
        )
    return sorted(
        docs,
        key=lambda d: (
            d["metal"],
            d["compound"],
            d["metal_miller"],
            d["compound_miller"],
            d["E_f"],
        ),
    )


def learn_potential(
    structure: str | Path,
    *,
    settings: InterfacialSettings | None = None,
    show_progress: bool = True,
    calculator: str | None = None,
    reference: dict[str, Any] | None = None,
    fit: dict[str, Any] | None = None,
    **learn_kwargs: Any,
) -> dict[str, Any]:
    """Reference MD, MTP fit, validation and active learning, run here.

    ``calculator`` (default ``settings.calculator``) is the reference calculator engine;
    ``reference`` and ``fit`` are keyword arguments of its reference-MD maker and fit maker
    (CHGNet: ForceFieldReferenceMDMaker and MotepFitMaker); the rest go to its
    LearnPotentialMaker. Returns the active-learning output: ``rounds`` (one summary per round)
    and ``final_fit`` (the last fit's document).
    """
    from interfacial.runner import run_flow

    settings = settings or get_settings()
    engine = engines.calculator(calculator or settings.calculator)
    bulk, label = load_md_structure(structure, settings)
    maker = engine.learn_potential_maker(settings, reference=reference, fit=fit, **learn_kwargs)
    if maker.reference_md_maker is not None:
        label = system_name(label, getattr(maker.reference_md_maker, "vacancy_element", None))
    with warnings.catch_warnings():
        # Cells with charge-compensated vacancies carry a charge on purpose.
        warnings.filterwarnings("ignore", message="Structure charge .* is set to be not equal")
        flow = maker.make(bulk, label)
    engine.check_can_run_locally(settings)
    check_writable(settings)
    store = get_job_store(settings)
    run_flow(flow, store, run_directory(settings), show_progress=show_progress)
    store.connect()
    try:
        learning = [
            d
            for d in store.query(role_filter(Role.ACTIVE_LEARNING))
            if d["hosts"]
            and flow.uuid in d["hosts"]
            and isinstance(d.get("output"), dict)
            and "rounds" in d["output"]
        ]
    finally:
        store.close()
    if not learning:
        raise InterfacialError("the potential flow finished without an active-learning result")
    return learning[-1]["output"]
