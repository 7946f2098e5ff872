"""What our own MD runner recorded next to its dumps: time step, species order, temperatures.

The segmented LAMMPS runner (:class:`interfacial.lammps.segments.SegmentedMD`) keeps a run
record (``md_state.json``) in the run directory beside its dumps. This module only finds the
record of a dump and asks it questions; the record is read (and written) by
:mod:`interfacial.lammps.record` alone (:func:`~interfacial.lammps.record.read_run_record`).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from interfacial.errors import InterfacialError
from interfacial.trajectory.frames import PathLike, trajectory_paths

if TYPE_CHECKING:
    from interfacial.lammps.record import MDRunRecord

__all__ = [
    "recorded_md_plan",
    "recorded_run_temperature",
    "run_directory_trajectory",
    "run_record_of",
]


def run_record_of(dump: Path) -> MDRunRecord | None:
    """The record of the run directory holding ``dump`` (symlinks resolved), or None."""
    from interfacial.lammps.record import STATE_FILE, read_run_record

    state_file = dump.resolve().parent / STATE_FILE
    return read_run_record(state_file) if state_file.is_file() else None


def run_directory_trajectory(directory: Path) -> tuple[list[Path], str]:
    """The production trajectory of the run in ``directory`` and its format.

    The binary dumps when the run wrote them, else its text dumps, in time order: what
    :func:`~interfacial.trajectory.frames.iter_frames` reads for ``interfacial diffusion
    RUN_DIR``.

    Raises
    ------
    InterfacialError
        If the directory holds no run record, or the run has no completed production segment.

    """
    from interfacial.lammps.record import STATE_FILE, read_run_record

    state_file = directory / STATE_FILE
    if not state_file.is_file():
        raise InterfacialError(
            f"trajectory file {directory} is a directory without an MD run record "
            f"({STATE_FILE}); give trajectory files, or the run directory of an interfacial MD"
        )
    record = read_run_record(state_file)
    if not record.production_trajectory or record.trajectory_format is None:
        raise InterfacialError(
            f"{directory}: the MD run has no completed production segment yet; run (or resume) "
            "it first"
        )
    return [Path(p) for p in record.production_trajectory], record.trajectory_format


def recorded_md_plan(paths: PathLike | Sequence[PathLike]) -> dict[str, Any] | None:
    """Time step (fs) and species order of our own MD run that wrote these dumps, if any.

    Read from the run record next to the first file; None for any other trajectory. Lets
    ``interfacial diffusion`` fill in or check ``--time-step`` and ``--species`` for runs made
    by interfacial.
    """
    record = run_record_of(trajectory_paths(paths)[0])
    if record is None or not record.species_order:
        return None
    return {"time_step_fs": record.time_step_fs, "species_order": list(record.species_order)}


def recorded_run_temperature(paths: Sequence[Path]) -> float | None:
    """Step-weighted mean temperature (K) of the run-record segments that wrote ``paths``.

    ``sum(steps * T) / sum(steps)`` over the production segments whose dumps are among
    ``paths``; dumps no record lists contribute nothing; None when none is listed.
    """
    records: dict[Path, MDRunRecord | None] = {}
    weighted = 0.0
    steps = 0.0
    for p in paths:
        real = p.resolve()
        if real.parent not in records:
            records[real.parent] = run_record_of(real)
        record = records[real.parent]
        if record is None:
            continue
        for seg in record.segments:
            names = {Path(f).name for f in (seg.dump_file, seg.binary_dump_file) if f}
            if real.name not in names:
                continue
            n, temperature = float(seg.steps), float(seg.mean_temperature)
            if not (n > 0 and math.isfinite(temperature)):
                raise InterfacialError(
                    f"{real.parent}: the run record's segment of {real.name} has {n:g} steps at "
                    f"{temperature} K"
                )
            weighted += n * temperature
            steps += n
    return weighted / steps if steps > 0 else None
