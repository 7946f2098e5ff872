"""The run record of a segmented MD: ``md_state.json``, read and written here only.

The file holds the plan's fingerprint, the plan itself (structure, species order, segments,
time step, ...) and the completed segments, in order::

    {"fingerprint": "<sha256>", "plan": {...}, "segments": [{...}, ...]}

It is replaced atomically after every segment, so a kill leaves the old or the new record. The
plan is enough to summarise a run without the code that made it: :func:`read_run_record` gives
the same :class:`MDRunRecord` as the runner does, for any reader of a run directory.
"""

from __future__ import annotations

import json
import math
import os
from pathlib import Path
from typing import Any

import numpy as np
from pydantic import BaseModel, Field, ValidationError

from interfacial.errors import InterfacialError

STATE_FILE = "md_state.json"
TEMPERATURE_TOLERANCE = 0.15
"""Relative deviation of the mean production temperature from its target above which a record
is flagged (not an error: small cells fluctuate)."""


def ns_per_day(steps: int, time_step_fs: float, wall_seconds: float) -> float:
    """Simulated nanoseconds per day of wall time."""
    if wall_seconds <= 0:
        return math.inf
    return steps * time_step_fs * 1e-6 / wall_seconds * 86400.0


class SegmentRecord(BaseModel):
    """A completed segment (file names relative to the work directory).

    A production segment names its trajectory: ``binary_dump_file`` (LAMMPS binary dump,
    format ``lammps-binary``), ``dump_file`` (text dump, format ``lammps``) or both; records
    written before binary dumps existed name the text dump only.
    """

    index: int
    stage: str
    steps: int
    first_step: int
    start_temperature: float = Field(description="Thermostat target at the start (K)")
    end_temperature: float = Field(description="Thermostat target at the end (K)")
    wall_seconds: float
    mean_temperature: float = Field(description="Mean thermo temperature after the start (K)")
    ns_per_day: float
    restart_file: str
    dump_file: str | None = None
    binary_dump_file: str | None = None
    log_file: str
    lammps_version: str
    argv: list[str] | None = None

    @property
    def wall_time(self) -> float:
        """Same as :attr:`wall_seconds` (s)."""
        return self.wall_seconds

    @property
    def trajectory_file(self) -> str | None:
        """The segment's trajectory to read: the binary dump when written, else the text one."""
        return self.binary_dump_file or self.dump_file

    @property
    def trajectory_format(self) -> str | None:
        """Format of :attr:`trajectory_file` (:func:`interfacial.trajectory.iter_frames`)."""
        if self.binary_dump_file:
            return "lammps-binary"
        return "lammps" if self.dump_file else None


class RunState(BaseModel):
    """What ``md_state.json`` holds: the plan, its fingerprint and the completed segments."""

    fingerprint: str
    plan: dict[str, Any]
    segments: list[SegmentRecord] = Field(default_factory=list)


class MDRunRecord(BaseModel):
    """Where a segmented run stands, and what it produced."""

    workdir: str
    fingerprint: str
    complete: bool
    segments: list[SegmentRecord]
    total_segments: int
    steps_done: int
    total_steps: int
    production_dumps: list[str] = Field(
        description="Text dumps (absolute paths, in time order); empty when only binary "
        "dumps were written"
    )
    production_trajectory: list[str] = Field(
        default_factory=list,
        description="The production trajectory to read (absolute paths, in time order): the "
        "binary dumps when written, else the text dumps",
    )
    trajectory_format: str | None = Field(
        None, description="Format of production_trajectory: 'lammps-binary' or 'lammps'"
    )
    production_steps: int
    dump_interval: int | None
    time_step_fs: float
    species_order: list[str] = Field(default_factory=list, description="Element of each type")
    target_temperature: float = Field(description="Production target (K)")
    mean_production_temperature: float | None = Field(
        None, description="Step-weighted mean of the production segments' thermo (K)"
    )
    temperature_ok: bool = True
    temperature_warning: str | None = None
    lammps_version: str | None = None
    argv: list[str] | None = Field(None, description="Command line of the last subprocess run")
    ns_per_day: float | None = Field(None, description="Over the segments done so far")

    @property
    def production_segments(self) -> list[SegmentRecord]:
        """The completed segments that wrote a dump, in time order."""
        return [s for s in self.segments if s.trajectory_file is not None]


def state_path(path: str | Path) -> Path:
    """The run record of a run directory, or ``path`` itself if it names a file."""
    path = Path(path)
    return path / STATE_FILE if path.is_dir() else path


def read_state(path: str | Path) -> RunState:
    """The content of a run record (``md_state.json`` or its run directory).

    Raises
    ------
    InterfacialError
        If the file cannot be read or is not a run record.

    """
    file = state_path(path)
    try:
        return RunState.model_validate_json(file.read_bytes())
    except (OSError, ValidationError) as err:
        if isinstance(err, ValidationError):
            first = err.errors()[0]
            where = ".".join(map(str, first["loc"]))
            # Invalid JSON or a non-object has no field to name: the parser's message says it.
            reason = f"{where}: {first['msg']}" if where else first["msg"]
            if err.error_count() > 1:
                reason += f" (and {err.error_count() - 1} more)"
        else:
            reason = str(err)
        raise InterfacialError(
            f"{file}: unreadable MD run record ({reason}); restore it, or delete the run "
            "directory to start afresh (copy its dumps elsewhere first to analyse them)"
        ) from None


def write_state(path: str | Path, state: RunState) -> None:
    """Replace the run record atomically (a kill leaves the old or the new one)."""
    file = state_path(path)
    tmp = file.with_name(file.name + ".tmp")
    payload = {
        "fingerprint": state.fingerprint,
        "plan": state.plan,
        "segments": [s.model_dump() for s in state.segments],
    }
    tmp.write_text(json.dumps(payload, indent=1), encoding="utf-8")
    os.replace(tmp, file)


def summarise(
    workdir: str | Path,
    state: RunState,
    temperature_tolerance: float = TEMPERATURE_TOLERANCE,
) -> MDRunRecord:
    """The record of a run: its plan and the segments completed so far.

    Parameters
    ----------
    workdir
        The run directory (dump paths are made absolute against it).
    state
        Plan and completed segments (:func:`read_state`).
    temperature_tolerance
        See :data:`TEMPERATURE_TOLERANCE`.

    """
    workdir = Path(workdir)
    plan = state.plan
    planned = plan["segments"]
    time_step_fs = float(plan["time_step_fs"])
    done = state.segments
    production = [s for s in planned if s.get("dump_interval") is not None]
    finished = {s.index for s in done}
    prod_done = [s for s in done if s.trajectory_file is not None]
    formats = {s.trajectory_format for s in prod_done}
    if len(formats) > 1:
        raise InterfacialError(
            f"{workdir}: the run record's production segments mix trajectory formats "
            f"{sorted(f for f in formats if f)}: restore the record or rerun in a new directory"
        )
    target = float((production[-1] if production else planned[-1])["end_temperature"])
    mean = None
    ok, warning = True, None
    if prod_done:
        weights = np.array([s.steps for s in prod_done], dtype=float)
        mean = float(np.average([s.mean_temperature for s in prod_done], weights=weights))
        deviation = abs(mean - target) / target
        if deviation > temperature_tolerance:
            ok = False
            warning = (
                f"mean production temperature {mean:.1f} K deviates from the target "
                f"{target:g} K by {100 * deviation:.0f} % (> "
                f"{100 * temperature_tolerance:.0f} %): check the thermostat damping, "
                "the time step and the potential"
            )
    wall = sum(s.wall_seconds for s in done)
    steps_done = sum(s.steps for s in done)
    subprocess_runs = [s.argv for s in done if s.argv is not None]
    return MDRunRecord(
        workdir=str(workdir),
        fingerprint=state.fingerprint,
        complete=finished == {int(s["index"]) for s in planned},
        segments=done,
        total_segments=len(planned),
        steps_done=steps_done,
        total_steps=sum(int(s["steps"]) for s in planned),
        production_dumps=[str(workdir / s.dump_file) for s in prod_done if s.dump_file],
        production_trajectory=[
            str(workdir / s.trajectory_file) for s in prod_done if s.trajectory_file
        ],
        trajectory_format=formats.pop() if formats else None,
        production_steps=sum(int(s["steps"]) for s in production),
        dump_interval=production[0]["dump_interval"] if production else None,
        time_step_fs=time_step_fs,
        species_order=[str(s) for s in plan.get("species_order", [])],
        target_temperature=target,
        mean_production_temperature=mean,
        temperature_ok=ok,
        temperature_warning=warning,
        lammps_version=done[-1].lammps_version if done else None,
        argv=subprocess_runs[-1] if subprocess_runs else None,
        ns_per_day=ns_per_day(steps_done, time_step_fs, wall) if done else None,
    )


def read_run_record(
    path: str | Path, temperature_tolerance: float = TEMPERATURE_TOLERANCE
) -> MDRunRecord:
    """The record of the run in a directory (or of its ``md_state.json``).

    For readers of run directories (trajectory analysis): time step (fs), species order, the
    production segments with their dumps, steps and mean temperatures (K).

    Raises
    ------
    InterfacialError
        If the record cannot be read, is not a run record or lacks its plan.

    """
    file = state_path(path)
    state = read_state(file)
    try:
        # Resolved as the runner resolves its work directory: the dumps' paths are absolute.
        return summarise(file.parent.resolve(), state, temperature_tolerance)
    except (KeyError, TypeError, ValueError, IndexError) as err:
        raise InterfacialError(
            f"{file}: unreadable MD run record (its plan lacks or garbles {err}); restore it"
        ) from None
