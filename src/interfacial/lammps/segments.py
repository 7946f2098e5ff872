"""Resumable, segmented NVT runs of one temperature: the state machine over LAMMPS runs.

A run lives in a work directory::

    data.lmp                         the starting structure (first segment only)
    segNNN_<stage>.in / .log         input and LAMMPS log of every segment
    segNNN_<stage>.restart           state at the end of the segment (next segment starts here)
    segNNN_production.bin            trajectory of a production segment (LAMMPS binary dump,
                                     unwrapped, by ID; read by interfacial.trajectory)
    segNNN_production.dump           the same as a text dump (dump_format "text" or "both")
    md_state.json                    the plan's fingerprint and the completed segments
                                     (:mod:`interfacial.lammps.record`)

Each segment is a separate LAMMPS run. A segment counts as done only once its LAMMPS run ended
normally, its restart file exists and its log reached the last step; the record is then
replaced atomically. Running again skips the completed segments and continues from the last
restart; the files of an interrupted segment are deleted and written afresh, never counted.

How LAMMPS gets its forces and is executed is the force field's business
(:mod:`interfacial.lammps.providers`); the inputs are otherwise the same
(:func:`interfacial.lammps.inputs.segment_input`).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from interfacial.conventions import plan_fingerprint, structure_key
from interfacial.errors import InterfacialError
from interfacial.lammps.inputs import (
    MDStage,
    Segment,
    check_species_order,
    plan_segments,
    segment_input,
    temperature_stages,
    write_data_file,
)
from interfacial.lammps.log import log_tail, parse_thermo
from interfacial.lammps.record import (
    STATE_FILE,
    TEMPERATURE_TOLERANCE,
    MDRunRecord,
    RunState,
    SegmentRecord,
    ns_per_day,
    read_state,
    summarise,
    write_state,
)

if TYPE_CHECKING:
    from pymatgen.core import Structure

    from interfacial.lammps.providers import ForceField

DATA_FILE = "data.lmp"
DUMP_FORMATS = ("binary", "text", "both")
"""Trajectory files of a production segment: ``.bin`` (LAMMPS binary dump), ``.dump`` (text), or
both. Binary is the default: 40 bytes per atom and frame against ~64 for a text dump with 17
significant digits (8320 atoms x 10^5 frames: 33 GB instead of 53 GB), read ~40x faster
(``benchmarks/bench_reading.py``), and exact. A text dump is for tools that read no binary
dumps (LAMMPS's ``tools/binary2txt`` converts a binary dump afterwards too)."""


@dataclass
class SegmentedMD:
    """An NVT (Nose-Hoover) run of one temperature, in resumable segments.

    Parameters
    ----------
    structure
        Starting structure (ordered, periodic); atom ID ``i + 1`` is its site ``i``.
    species_order
        Element of each LAMMPS type (the potential's species order).
    stages
        The stages (see :func:`interfacial.lammps.inputs.temperature_stages`).
    force_field
        :class:`MLIPPairStyle`, :class:`MotepExternal` or any :class:`ForceField`.
    workdir
        Directory of the run (created).
    time_step_fs
        Time step (fs).
    thermostat_damping_fs
        Nose-Hoover damping time (fs).
    velocity_seed
        Seed of the initial velocities.
    initial_temperature
        Temperature of the initial velocities (K); the first stage's start by default.
    thermo_interval
        Steps between thermo lines.
    max_segment_steps
        Longest segment (steps).
    temperature_tolerance
        Relative deviation of the mean production temperature from its target above which the
        record is flagged (not an error: small cells fluctuate).
    dump_format
        Trajectory files of the production: "binary", "text" or "both" (see
        :data:`DUMP_FORMATS`).

    """

    structure: Structure
    species_order: Sequence[str]
    stages: Sequence[MDStage]
    force_field: ForceField
    workdir: Path
    time_step_fs: float = 1.0
    thermostat_damping_fs: float = 100.0
    velocity_seed: int = 20240917
    initial_temperature: float | None = None
    thermo_interval: int = 100
    max_segment_steps: int = 100_000
    temperature_tolerance: float = TEMPERATURE_TOLERANCE
    dump_format: str = "binary"

    def __post_init__(self) -> None:
        if self.dump_format not in DUMP_FORMATS:
            raise InterfacialError(
                f"dump_format {self.dump_format!r} is not one of {', '.join(DUMP_FORMATS)}"
            )
        self.workdir = Path(self.workdir).resolve()
        self.species_order = check_species_order(self.species_order)
        own = getattr(self.force_field, "species_order", None)
        if own is not None and tuple(own) != tuple(self.species_order):
            raise InterfacialError(
                f"species_order {list(self.species_order)} differs from the potential's "
                f"{list(own)}: use the potential's order"
            )
        self.stages = list(self.stages)
        self.segments = plan_segments(self.stages, self.max_segment_steps)
        if self.initial_temperature is None:
            self.initial_temperature = self.stages[0].start_temperature

    # -- plan ---------------------------------------------------------------------------------

    def plan(self) -> dict[str, Any]:
        """Everything that determines the trajectory (hashed into :meth:`fingerprint`).

        The dump format enters only when it is not "text", so that runs made before binary
        dumps existed (text only) keep their fingerprint and resume.
        """
        formats = {} if self.dump_format == "text" else {"dump_format": self.dump_format}
        return {
            **formats,
            "structure": structure_key(self.structure),
            "species_order": list(self.species_order),
            "segments": [asdict(s) for s in self.segments],
            "time_step_fs": self.time_step_fs,
            "thermostat_damping_fs": self.thermostat_damping_fs,
            "velocity_seed": self.velocity_seed,
            "initial_temperature": self.initial_temperature,
            "thermo_interval": self.thermo_interval,
            "force_field": self.force_field.identity,
        }

    def fingerprint(self) -> str:
        """sha256 of :meth:`plan` (:func:`interfacial.conventions.plan_fingerprint`)."""
        return plan_fingerprint(self.plan())

    @property
    def state_file(self) -> Path:
        """The state file of the work directory."""
        return self.workdir / STATE_FILE

    # -- state --------------------------------------------------------------------------------

    def _read_state(self) -> list[SegmentRecord]:
        if not self.state_file.is_file():
            return []
        state = read_state(self.state_file)
        if state.fingerprint != self.fingerprint():
            raise InterfacialError(
                f"{self.workdir} holds a different MD run (its plan, structure or potential "
                "differ): use a new directory or delete this one"
            )
        return state.segments

    def _write_state(self, done: list[SegmentRecord]) -> None:
        write_state(
            self.state_file,
            RunState(fingerprint=self.fingerprint(), plan=self.plan(), segments=done),
        )

    def record(self, done: list[SegmentRecord] | None = None) -> MDRunRecord:
        """The record of the segments completed so far (read from the state file by default)."""
        done = self._read_state() if done is None else done
        state = RunState(fingerprint=self.fingerprint(), plan=self.plan(), segments=done)
        return summarise(self.workdir, state, self.temperature_tolerance)

    # -- run ----------------------------------------------------------------------------------

    def run(self, on_segment: Callable[[MDRunRecord], None] | None = None) -> MDRunRecord:
        """Run the segments not yet completed, each from the previous one's restart file.

        Parameters
        ----------
        on_segment
            Called with the record after every completed segment (and once at the start);
            see :func:`md_progress` for a progress bar.

        Returns
        -------
        MDRunRecord

        Raises
        ------
        InterfacialError
            If the work directory holds a different plan, or a segment fails (with the end of
            its LAMMPS log).

        """
        self.workdir.mkdir(parents=True, exist_ok=True)
        done = self._read_state()
        # The state is a prefix of the plan by construction; anything else is tampering.
        if [s.index for s in done] != list(range(len(done))):
            raise InterfacialError(
                f"{self.state_file} lists segments out of order: delete the work directory"
            )
        if on_segment is not None:
            on_segment(self.record(done))
        if len(done) == len(self.segments):
            return self.record(done)
        if not done:
            write_data_file(self.structure, self.species_order, self.workdir / DATA_FILE)
        self._write_state(done)  # claims the directory for this plan before any LAMMPS run
        pair_commands = self.force_field.prepare(self.workdir)
        for segment in self.segments[len(done) :]:
            done.append(self._run_segment(segment, done, pair_commands))
            self._write_state(done)
            if on_segment is not None:
                on_segment(self.record(done))
        return self.record(done)

    def _run_segment(
        self, segment: Segment, done: list[SegmentRecord], pair_commands: list[str]
    ) -> SegmentRecord:
        label = segment.label
        input_file = self.workdir / f"{label}.in"
        log_file = self.workdir / f"{label}.log"
        restart = self.workdir / f"{label}.restart"
        dumps = segment.dump_interval is not None
        dump = self.workdir / f"{label}.dump" if dumps and self.dump_format != "binary" else None
        binary = self.workdir / f"{label}.bin" if dumps and self.dump_format != "text" else None
        # Files of an interrupted attempt must not pass for this one's.
        for stale in (log_file, restart, dump, binary):
            if stale is not None:
                stale.unlink(missing_ok=True)
        restart_in = str(self.workdir / done[-1].restart_file) if done else None
        if restart_in is not None and not Path(restart_in).is_file():
            raise InterfacialError(
                f"the restart file {restart_in} of the last completed segment is missing: "
                "the work directory was altered; delete it and start again"
            )
        assert self.initial_temperature is not None  # set in __post_init__
        text = segment_input(
            segment,
            restart_in=restart_in,
            data_file=str(self.workdir / DATA_FILE),
            pair_commands=pair_commands,
            time_step_fs=self.time_step_fs,
            thermostat_damping_fs=self.thermostat_damping_fs,
            velocity_seed=self.velocity_seed,
            initial_temperature=self.initial_temperature,
            thermo_interval=self.thermo_interval,
            dump_file=str(dump) if dump is not None else None,
            restart_out=str(restart),
            binary_dump_file=str(binary) if binary is not None else None,
        )
        input_file.write_text(text, encoding="utf-8")
        start = time.perf_counter()
        execution = self.force_field.execute(input_file, log_file, self.workdir)
        wall = time.perf_counter() - start
        thermo = parse_thermo(log_file.read_text(encoding="utf-8", errors="replace"))
        if not restart.is_file() or not thermo.size or int(thermo[-1, 0]) != segment.last_step:
            raise InterfacialError(
                f"segment {segment.index} ({label}) ended without reaching step "
                f"{segment.last_step} or without its restart file; end of {log_file.name}:\n"
                f"{log_tail(log_file)}"
            )
        for trajectory in (dump, binary):
            if trajectory is not None and not trajectory.is_file():
                raise InterfacialError(f"segment {segment.index} wrote no trajectory {trajectory}")
        # The first thermo row is the state the segment started from (the previous segment's
        # end): the mean is over the rows this segment produced.
        temperatures = thermo[1:, 1] if len(thermo) > 1 else thermo[:, 1]
        return SegmentRecord(
            index=segment.index,
            stage=segment.stage,
            steps=segment.steps,
            first_step=segment.first_step,
            start_temperature=segment.start_temperature,
            end_temperature=segment.end_temperature,
            wall_seconds=wall,
            mean_temperature=float(np.mean(temperatures)),
            ns_per_day=ns_per_day(segment.steps, self.time_step_fs, wall),
            restart_file=restart.name,
            dump_file=dump.name if dump is not None else None,
            binary_dump_file=binary.name if binary is not None else None,
            log_file=log_file.name,
            lammps_version=execution.lammps_version,
            argv=execution.argv,
        )


def run_segments(
    workdir: str | Path,
    structure: Structure,
    force_field: ForceField,
    stages: Sequence[MDStage],
    *,
    species_order: Sequence[str] | None = None,
    on_segment: Callable[[MDRunRecord], None] | None = None,
    **options: Any,
) -> MDRunRecord:
    """Run (or resume) a segmented MD in ``workdir``: :class:`SegmentedMD` in one call.

    Parameters
    ----------
    workdir, structure, force_field, stages
        As for :class:`SegmentedMD`.
    species_order
        LAMMPS type order; by default the force field's ``species_order`` (the potential's).
    on_segment
        Progress callback (:func:`progress_printer`, :func:`md_progress`).
    **options
        Other :class:`SegmentedMD` parameters (``time_step_fs``, ``thermostat_damping_fs``,
        ``velocity_seed``, ``max_segment_steps``, ...).

    Returns
    -------
    MDRunRecord

    """
    order = (
        species_order if species_order is not None else getattr(force_field, "species_order", None)
    )
    if order is None:
        raise InterfacialError(
            "give species_order: this force field does not carry a potential's species order"
        )
    md = SegmentedMD(structure, order, stages, force_field, Path(workdir), **options)
    return md.run(on_segment=on_segment)


def run_plan(
    force_field: ForceField,
    workdir: str | Path,
    structure: Structure,
    temperature: float,
    plan: dict[str, Any],
    *,
    velocity_seed: int,
    progress_label: str | None = None,
) -> MDRunRecord:
    """Run (or resume) the transport MD of one temperature: ramp, equilibration, production.

    Parameters
    ----------
    force_field
        How LAMMPS gets its forces (carries the potential's species order).
    workdir
        Directory of the run (a rerun resumes from its last complete segment).
    structure
        Simulated cell; site ``i`` is LAMMPS atom ``i + 1``.
    temperature
        Target temperature (K).
    plan
        time_step (fs), ramp_start_temperature (K), ramp_steps, equilibration_steps,
        production_steps, dump_interval, segment_steps, thermostat_damping (fs); optionally
        dump_format ("binary" by default, see :data:`DUMP_FORMATS`).
    velocity_seed
        Seed of the initial velocities.
    progress_label
        Print one line per completed segment under this label; None prints nothing.

    Returns
    -------
    MDRunRecord

    """
    from interfacial.lammps.progress import progress_printer

    stages = temperature_stages(
        temperature,
        ramp_steps=plan["ramp_steps"],
        equilibration_steps=plan["equilibration_steps"],
        production_steps=plan["production_steps"],
        dump_interval=plan["dump_interval"],
        start_temperature=plan["ramp_start_temperature"],
    )
    return run_segments(
        workdir,
        structure,
        force_field,
        stages,
        time_step_fs=plan["time_step"],
        thermostat_damping_fs=plan["thermostat_damping"],
        velocity_seed=velocity_seed,
        max_segment_steps=plan["segment_steps"],
        dump_format=plan.get("dump_format", "binary"),
        on_segment=progress_printer(progress_label) if progress_label is not None else None,
    )
