"""Jobs of the transport MD: one temperature of the ladder, and the Arrhenius summary.

:func:`transport_md` runs LAMMPS in a stable directory (so a run killed by the walltime resumes
from its last complete segment when the job is rerun), then streams the production dumps
(the binary ones the run writes, :mod:`interfacial.trajectory.lammps_binary`) through the MSD
accumulator on the worker: memory is bounded by the MSD's live time origins, not by the run
length. The document keeps the compact MSD curves; frames go to the data store only when
asked for.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from jobflow import job

from interfacial import engines
from interfacial.conventions import plan_fingerprint, structure_key
from interfacial.errors import InterfacialError
from interfacial.schemas.diffusion import (
    ArrheniusDocument,
    DiffusionDocument,
    ExtrapolationCheck,
    MDRunInfo,
    TransportLearning,
)

if TYPE_CHECKING:
    from pymatgen.core import Structure

#: Live MSD time origins aimed at when the origin interval is not given: enough for a smooth
#: curve, few enough that memory stays ~200 x n_atoms x 24 bytes. Denser origins would cost
#: ~2.5x per frame for origins every max_lag // 500 frames and shrink sigma_D by < 3 % for fit
#: windows starting at >= 64 frames (random-walk covariance, 10^4 frames): not worth it.
TARGET_ORIGINS = 200


def force_provider(md_engine: str, potential: Any, options: dict[str, Any]) -> Any:
    """The transport MD engine ``md_engine`` built with the potential and its options.

    Looked up in :mod:`interfacial.engines` (kind ``md``); its ``run`` runs one temperature.
    """
    return engines.get("md", md_engine)(potential, **options)


def work_root(work_dir: str | None) -> Path:
    """Root of the run directories: ``work_dir``, else the ``md_dir`` setting, else data_dir/md.

    Resolved where the job runs, so a cluster worker uses its own scratch.
    """
    from interfacial.settings import get_settings

    if work_dir:
        return Path(work_dir).expanduser().resolve()
    settings = get_settings()
    if settings.md_dir is not None:
        return settings.md_dir.expanduser().resolve()
    return (settings.data_dir / "md").expanduser().resolve()


def run_directory_name(
    system: str, potential_sha256: str, temperature: float, plan_digest: str
) -> str:
    """Directory of one run: system, potential, temperature and a digest of the plan.

    The same plan finds its directory again (a rerun resumes); another plan (cell, steps,
    seed) gets its own instead of colliding with the first.
    """
    safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in system)
    return f"{safe}-{potential_sha256[:10]}-{temperature:g}K-{plan_digest[:8]}"


def plan_digest(structure: Structure, plan: dict[str, Any], velocity_seed: int) -> str:
    """sha256 of what determines the trajectory besides the potential and the temperature.

    The structure key and the hash are those of the run record's fingerprint
    (:mod:`interfacial.conventions`).
    """
    return plan_fingerprint(
        {"structure": structure_key(structure), "plan": plan, "velocity_seed": velocity_seed}
    )


def _origin_interval(n_frames: int, requested: int | None) -> tuple[int, int]:
    max_lag = max(n_frames // 2, 1)
    interval = requested or max(1, max_lag // TARGET_ORIGINS)
    return max_lag, interval


@job(output_schema=DiffusionDocument, data=["trajectory"])
def transport_md(
    structure: Structure,
    potential: dict[str, Any] | Any,
    temperature: float,
    *,
    system: str,
    md_engine: str,
    engine_options: dict[str, Any],
    plan: dict[str, Any],
    velocity_seed: int,
    vacancies: list[dict[str, Any]],
    mobile: str = "Li",
    groups: dict[str, list[int]] | None = None,
    components: list[str] | None = None,
    fit_window: tuple[float, float] | None = None,
    origin_interval: int | None = None,
    store_trajectory: bool = False,
    work_dir: str | None = None,
    show_progress: bool = True,
    training: dict[str, Any] | None = None,
    n_graded: int = 40,
    learning: dict[str, Any] | None = None,
) -> DiffusionDocument:
    """NVT MD at one temperature with LAMMPS, then D* per group and component.

    Parameters
    ----------
    structure : Structure
        Simulated cell; site i is LAMMPS atom i + 1, its ``region`` (metal/compound) labels
        ions by origin.
    potential : dict or MTPPotential
        ``MTPPotential.as_dict()`` (or the object monty revives from it).
    temperature : float
        K.
    plan : dict
        time_step (fs), ramp_start_temperature (K), ramp_steps, equilibration_steps,
        production_steps, dump_interval, segment_steps, thermostat_damping (fs).
    system : str
        Name of the documents.
    md_engine, engine_options
        Transport MD engine (a registered ``md`` engine, :mod:`interfacial.engines`) and its
        options.
    velocity_seed : int
        Seed of the initial velocities.
    vacancies : list of dict
        How the cell was made (stored with the document).
    mobile : str
        Element whose ions are grouped by origin.
    groups : dict, optional
        Extra MSD groups (0-based site indices).
    components : list of str, optional
        MSD components fitted (default in-plane, out-of-plane, total).
    fit_window : (float, float), optional
        Lag window (ps); default: chosen per group from the data (from where its MSD turns
        diffusive to half the production).
    origin_interval : int, optional
        Frames between MSD time origins; default about :data:`TARGET_ORIGINS` live origins.
    store_trajectory : bool
        Put the production frames into the data store too.
    work_dir : str, optional
        Root of the run directory (see :func:`work_root`).
    show_progress : bool
        Print segment progress (steps, ns/day, temperature).
    training : dict, optional
        ``{"cfg": .cfg text, "source": description}``: the potential's training set. When
        given, ``n_graded`` production frames (evenly spaced) are graded against it (MaxVol)
        and the document says whether the run stayed where the potential is reliable.
    n_graded : int
        Production frames graded.
    learning : dict, optional
        The record of active learning on this cell before production
        (:class:`~interfacial.schemas.diffusion.TransportLearning`), stored with the document.

    Returns
    -------
    DiffusionDocument
        Compact MSD curves (A^2 vs ps) and D* (cm^2/s) with GLS errors.

    """
    from interfacial.diffusion import diffusion_document
    from interfacial.mtp.potential import MTPPotential
    from interfacial.trajectory import default_groups, iter_frames

    # FireWorks specs are decoded with monty, which revives the MSON dict as an MTPPotential.
    mtp = potential if isinstance(potential, MTPPotential) else MTPPotential.from_dict(potential)
    elements = {el.symbol for el in structure.composition.elements}
    missing = sorted(elements - set(mtp.species_order))
    if missing:
        raise InterfacialError(
            f"the potential knows {list(mtp.species_order)} but the cell has {missing}: fit a "
            "potential on this chemistry"
        )
    workdir = work_root(work_dir) / run_directory_name(
        system, mtp.sha256, temperature, plan_digest(structure, plan, velocity_seed)
    )
    provider = force_provider(md_engine, mtp, engine_options)
    record = provider.run(
        workdir,
        structure,
        temperature,
        plan,
        velocity_seed=velocity_seed,
        progress_label=f"{system} {temperature:g} K" if show_progress else None,
    )

    n_frames = plan["production_steps"] // plan["dump_interval"] + 1
    max_lag, interval = _origin_interval(n_frames, origin_interval)
    regions = structure.site_properties.get("region")
    # LAMMPS atom i + 1 is site i, and the dumps are sorted by id: the frames' symbols.
    symbols = [site.specie.symbol for site in structure]
    msd_groups = default_groups(symbols, regions, mobile=mobile)
    for name, indices in (groups or {}).items():
        if not indices:
            raise InterfacialError(f"group {name!r} has no atoms")
        msd_groups[name] = list(indices)
    # One pass over the dumps (reading them is the costly part): the MSD consumes every frame,
    # the extrapolation check keeps evenly spaced ones, the optional trajectory copies all.
    to_grade = graded_frame_indices(n_frames, n_graded) if training is not None else set()
    kept: list[Any] = []
    trajectory: dict[str, Any] | None = None
    if store_trajectory:
        trajectory = {"time": [], "positions": [], "cell": None, "symbols": symbols}

    def observed(frames: Any) -> Any:
        for i, frame in enumerate(frames):
            if i in to_grade:
                kept.append(frame)
            if trajectory is not None:
                trajectory["cell"] = trajectory["cell"] or frame.cell.tolist()
                trajectory["time"].append(frame.time)
                trajectory["positions"].append(frame.positions.tolist())
            yield frame

    if not record.complete or record.mean_production_temperature is None:
        raise InterfacialError(f"the MD in {workdir} did not complete all its segments")
    doc = diffusion_document(
        observed(
            iter_frames(
                # The binary dumps when the run wrote them (read ~40x faster than text).
                record.production_trajectory,
                fmt=record.trajectory_format,
                time_step_fs=plan["time_step"],
                species_order=list(mtp.species_order),
            )
        ),
        msd_groups,
        system=system,
        temperature=temperature,
        source="md",
        components=components,
        fit_window=fit_window,
        max_lag=max_lag,
        origin_interval=interval,
        masses=[site.specie.atomic_mass for site in structure],
        potential_sha256=mtp.sha256,
        potential_engine=f"{mtp.engine} {mtp.engine_version}",
        vacancies=vacancies,
        trajectory_files=record.production_trajectory,
        md=MDRunInfo(
            engine=provider.description,
            lammps_version=record.lammps_version,
            time_step=plan["time_step"],
            ramp_steps=plan["ramp_steps"],
            equilibration_steps=plan["equilibration_steps"],
            production_steps=plan["production_steps"],
            dump_interval=plan["dump_interval"],
            thermostat_damping=plan["thermostat_damping"],
            velocity_seed=velocity_seed,
            segments=len(record.segments),
            wall_time=sum(s.wall_seconds for s in record.segments),
            ns_per_day=record.ns_per_day,
            mean_temperature=record.mean_production_temperature,
            temperature_note=record.temperature_warning,
            work_dir=str(workdir),
        ),
    )
    # Filled while the pipeline read the frames: the graded frames and the optional copy.
    extrapolation = grade_production(mtp, training, kept) if training is not None else None
    record = None if learning is None else TransportLearning.model_validate(learning)
    if record is not None and record.production_potential_sha256 != mtp.sha256:
        raise InterfacialError(
            "the active-learning record names another production potential than the one run"
        )
    return doc.model_copy(
        update={"extrapolation": extrapolation, "trajectory": trajectory, "learning": record}
    )


def graded_frame_indices(n_frames: int, n_graded: int) -> set[int]:
    """Indices of ``n_graded`` evenly spaced frames among ``n_frames`` (first and last kept)."""
    import numpy as np

    return {int(i) for i in np.linspace(0, n_frames - 1, max(1, n_graded)).round()}


def grade_production(
    potential: Any, training: dict[str, Any], frames: list[Any]
) -> ExtrapolationCheck:
    """MaxVol grades of ``frames`` (trajectory Frames) against the training set."""
    import numpy as np
    from ase import Atoms

    from interfacial.jobs.mtp import configurations_from_cfg
    from interfacial.mtp.defaults import BREAK_THRESHOLD, SELECT_THRESHOLD

    configurations = configurations_from_cfg(training["cfg"], potential.species_order)
    if not configurations:
        raise InterfacialError("the training set given for grading holds no configuration")
    candidates = [
        Atoms(symbols=list(frame.symbols), positions=frame.positions, cell=frame.cell, pbc=True)
        for frame in frames
    ]
    # Per neighbourhood: transport cells are larger than the training cells, and a grade by
    # configuration grows with the number of atoms. motep grades a potential of any engine
    # (the file layout is the same; mlp has no grading interface).
    grader = engines.get("fit", "motep").build()
    grades = grader.extrapolation_grades(
        potential, configurations, candidates, per_neighbourhood=True
    )
    return ExtrapolationCheck(
        n_graded=len(grades),
        max_grade=float(grades.max()),
        mean_grade=float(grades.mean()),
        fraction_above_select=float(np.mean(grades > SELECT_THRESHOLD)),
        select_threshold=SELECT_THRESHOLD,
        break_threshold=BREAK_THRESHOLD,
        reliable=bool(grades.max() <= BREAK_THRESHOLD),
        training_source=str(training.get("source", "given")),
        n_training=len(configurations),
    )


@job
def arrhenius_summary(documents: list[DiffusionDocument | dict[str, Any]]) -> list[dict[str, Any]]:
    """Arrhenius fits over the ladder, for immediate feedback (the builder is authoritative)."""
    from interfacial.diffusion import arrhenius_documents

    docs = [
        d if isinstance(d, DiffusionDocument) else DiffusionDocument.model_validate(d)
        for d in documents
    ]
    fits: list[ArrheniusDocument] = arrhenius_documents(docs)
    return [f.model_dump() for f in fits]
