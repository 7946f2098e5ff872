"""Transport: the cell of a run, transport MD here, D* of trajectories, stored D* and Ea.

Every function validates its input completely before it opens a store, so bad input writes
nothing.
"""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

from interfacial.api.results import (
    build,
    load_potential,
    query_arrhenius,
    query_diffusion,
    query_interfaces,
    run_directory,
    training_set,
)
from interfacial.errors import InterfacialError
from interfacial.settings import InterfacialSettings, get_settings
from interfacial.stores import check_writable, get_job_store


def parse_interface_reference(text: str) -> tuple[str, list[int], str, list[int]]:
    """Metal, metal facet, compound, compound facet of ``interface:METAL(hkl)|COMPOUND(hkl)``."""
    import re

    match = re.fullmatch(
        r"interface:([A-Z][a-z]?)\((\d)(\d)(\d)\)\|(\w+)\((\d)(\d)(\d)\)", text.replace(" ", "")
    )
    if match is None:
        raise InterfacialError(
            f"'{text}' is not interface:METAL(hkl)|COMPOUND(hkl), e.g. interface:Li(110)|Li2S(110)"
        )
    return (
        match.group(1),
        [int(match.group(i)) for i in (2, 3, 4)],
        match.group(5),
        [int(match.group(i)) for i in (6, 7, 8)],
    )


def load_md_structure(
    spec: str | Path, settings: InterfacialSettings | None = None
) -> tuple[Any, str]:
    """The cell of a transport run and its label.

    ``interface:METAL(hkl)|COMPOUND(hkl)`` (e.g. ``interface:Li(110)|Li2S(110)``) is the relaxed
    lowest-E_f model of the newest calculation of that interface in the database, with its
    site property ``region``; anything else is a built-in name or a structure file.
    """
    from interfacial.structures.library import load_structure, structure_label

    text = str(spec)
    if not text.startswith("interface:"):
        structure = load_structure(text)
        return structure, structure_label(text, structure)
    metal, metal_miller, compound, compound_miller = parse_interface_reference(text)
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
    """D* of a trajectory file (LAMMPS dump(s), XDATCAR, vasprun.xml, ASE), streamed frame by frame.

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
        Trajectory file(s), each possibly compressed (.gz, .bz2, .xz); several files are
        consecutive segments of one run, in order, in one format. Or the run directory of our
        own MD (its record names the production trajectory: the binary dumps when written).
    temperature : float
        Temperature of the run (K).
    time_step_fs : float, optional
        LAMMPS: MD time step (fs); XDATCAR, vasprun.xml, .traj, extxyz, ase:FORMAT: time
        between stored frames (fs). Not needed where the files record it (vasprun.xml: POTIM x
        stride; ASE frames with ``info["time"]``; dumps of our own runs: their run record); a
        value that contradicts the files is an error.
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
        Trajectory format ("lammps", "xdatcar", "vasprun", "traj", "extxyz", "ase:FORMAT"),
        guessed from the file names (under a compression suffix) when omitted.
    show_progress : bool
        Progress bar on stderr.

    Returns
    -------
    DiffusionDocument
        Source "trajectory"; D* in cm^2/s. A vasprun.xml cut inside a step (a run killed at
        its walltime) gives its complete steps and a
        :class:`~interfacial.trajectory.vasprun.TruncatedTrajectoryWarning`.

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
    from interfacial.validation import check_input_file

    if len(paths) == 1 and Path(paths[0]).expanduser().is_dir():
        # The run directory of our own MD: its record names the trajectory (binary if written).
        from interfacial.trajectory.run_record import run_directory_trajectory

        paths, recorded_fmt = run_directory_trajectory(Path(paths[0]).expanduser())
        fmt = fmt or recorded_fmt
    files = [check_input_file(p, "trajectory file") for p in paths]
    from interfacial.trajectory.compression import uncompressed_name

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

        # Only its species and regions label the trajectory's atoms: its geometry is not used,
        # so atoms closer than a bond (a snapshot of a hot run) are no error here.
        model = load_structure(structure, check_overlaps=False)
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
    from pymatgen.core import Element

    # The drift removed is that of the mass-weighted centre of the cell, as in the transport
    # job: a thermostat keeps the total momentum, so the centre of MASS is what stays put; an
    # equal-weight centre moves with the light fast ions and lends heavy caged ones a drift.
    masses = [float(Element(symbol).atomic_mass) for symbol in first.symbols]
    try:
        return diffusion_document(
            frames(),
            groups,
            masses=masses,
            system=system or Path(uncompressed_name(files[0])).stem,
            temperature=temperature,
            source="trajectory",
            components=components,
            fit_window=fit_window,
            origin_interval=origin_interval or 1,
            progress=show_progress,
            trajectory_files=[p.resolve() for p in files],
        )
    except InterfacialError as exc:
        # The run's length is known only once it is read: name the option to change.
        if fit_window is not None and str(exc).startswith("fit window"):
            raise InterfacialError(
                f"--fit-window {fit_window[0]:g},{fit_window[1]:g}: {exc}"
            ) from None
        raise


def transport(
    structure: str | Path,
    potential: str | Path,
    *,
    species: list[str] | None = None,
    label: str | None = None,
    settings: InterfacialSettings | None = None,
    show_progress: bool = True,
    **maker_kwargs: Any,
) -> dict[str, list[dict[str, Any]]]:
    """Transport MD of one cell with one potential on the embedded path; D* and Arrhenius fits.

    Parameters
    ----------
    structure : str or Path
        Built-in name, structure file, or ``interface:METAL(hkl)|COMPOUND(hkl)``.
    potential : str or Path
        ``store:SYSTEM`` (the newest fit of SYSTEM; its training set then grades the production
        frames) or a .mtp file with ``species``.
    species : list of str, optional
        Element of each MLIP type of a .mtp file.
    label : str, optional
        System name of the documents.
    settings : InterfacialSettings, optional
        Settings; the global ones by default.
    show_progress : bool
        Progress on stderr.
    **maker_kwargs
        Fields of EmbeddedDiffusionMDMaker (temperatures in K, steps, vacancies, ...).

    Returns
    -------
    dict
        ``diffusion``: this potential's D* documents of the simulated system(s) (cm^2/s);
        ``arrhenius``: this run's Arrhenius fits (Ea in meV, D0 in cm^2/s).

    """
    from interfacial.flows.diffusion import EmbeddedDiffusionMDMaker

    settings = settings or get_settings()
    # Cheap checks first: the cell and the MD options, then the potential (a store read).
    cell, default_label = load_md_structure(structure, settings)
    EmbeddedDiffusionMDMaker(**maker_kwargs)
    spec = str(potential)
    mtp = load_potential(spec, species, settings)
    # A potential from the database comes with its training set: grade the frames with it.
    training = (
        training_set(spec.removeprefix("store:"), settings) if spec.startswith("store:") else None
    )
    fits = run_transport(
        cell,
        mtp,
        label=label or default_label,
        settings=settings,
        show_progress=show_progress,
        training=training,
        **maker_kwargs,
    )
    return {"diffusion": diffusion_of(fits, mtp.sha256, settings), "arrhenius": fits}


def diffusion_of(
    fits: list[dict[str, Any]], potential_sha256: str, settings: InterfacialSettings | None = None
) -> list[dict[str, Any]]:
    """The MD-derived D* documents of the systems of ``fits`` computed with that potential."""
    systems = {f["system"] for f in fits}
    return [
        d
        for d in query_diffusion(settings=settings)
        if d["system"] in systems
        and d.get("source") == "md"
        and d.get("potential_sha256") == potential_sha256
    ]


def query_transport(
    system: str | None = None,
    *,
    temperature: float | None = None,
    settings: InterfacialSettings | None = None,
) -> dict[str, list[dict[str, Any]]]:
    """Stored D* documents and, unless one temperature is asked for, the Arrhenius fits."""
    docs = query_diffusion(system, temperature=temperature, settings=settings)
    fits = query_arrhenius(system, settings=settings) if temperature is None else []
    return {"diffusion": docs, "arrhenius": fits}
