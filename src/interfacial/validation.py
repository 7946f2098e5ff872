"""Checks of user input at the edge, before any job is created or anything is stored.

Each check raises :class:`~interfacial.errors.InterfacialError` with one line that names the input,
what is wrong with it and what to do; each returns the value (reduced where that is the fix) so a
caller writes ``x = check_number(x, "--time-step", ...)``. The limits are generous: they catch
input no study means (a NaN, a zero-volume cell, a (50,0,1) facet) rather than second-guessing
choices a study may make.
"""

from __future__ import annotations

import math
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from interfacial.errors import InterfacialError

if TYPE_CHECKING:
    from pymatgen.core import Structure

#: Largest cell a command accepts from a file (atoms); the study's models have 400-520.
MAX_STRUCTURE_ATOMS = 5000
#: Atoms closer than this (A) are the same atom twice (shortest real bonds, H-H, are 0.74 A).
MIN_INTERATOMIC_DISTANCE = 0.5
#: Smallest volume per atom a real solid has (A^3; Li2O has ~8, compressed metals ~5).
MIN_VOLUME_PER_ATOM = 1.0
#: Largest slab of one facet a command builds on its smallest surface cell (atoms).
MAX_SLAB_ATOMS = 1500
#: Longest lattice vector of a structure file (A): interface models with vacuum reach ~100 A;
#: a longer vector is a unit mistake (bohr, nm) or a cell the neighbour search cannot hold.
MAX_CELL_LENGTH = 1000.0


def _range_text(
    minimum: float | None, maximum: float | None, low_open: bool, high_open: bool
) -> str:
    parts = []
    if minimum is not None:
        parts.append(f"{'>' if low_open else '>='} {minimum:g}")
    if maximum is not None:
        parts.append(f"{'<' if high_open else '<='} {maximum:g}")
    return " and ".join(parts)


def check_number(
    value: Any,
    name: str,
    *,
    minimum: float | None = None,
    maximum: float | None = None,
    low_open: bool = False,
    high_open: bool = False,
    integer: bool = False,
    unit: str = "",
    note: str = "",
) -> Any:
    """``value`` if it is a finite number within the bounds, else an error naming ``name``.

    ``low_open``/``high_open`` make a bound strict (``> 0`` rather than ``>= 0``); ``unit`` is
    shown in the message (e.g. ``"fs"``); ``note`` says what the number is ("a fraction": the
    message reads "--max-mismatch is a fraction: 15 is out of range"). ``None`` passes (an
    option not given).
    """
    if value is None:
        return None
    allowed = _range_text(minimum, maximum, low_open, high_open)
    want = ("an integer" if integer else "a finite number") + (f" {allowed}" if allowed else "")
    unit_text = f" {unit}" if unit else ""
    if isinstance(value, bool) or not isinstance(value, int | float | np.integer | np.floating):
        raise InterfacialError(f"{name} {value!r} is not a number; give {want}{unit_text}")
    whole = isinstance(value, int | np.integer) or (
        math.isfinite(float(value)) and float(value) == int(value)
    )
    if not math.isfinite(float(value)) or (integer and not whole):
        what = f"{name} is {note}, not {value}" if note else f"{name} is {value}"
        raise InterfacialError(f"{what}; give {want}{unit_text}")
    low_bad = minimum is not None and (value <= minimum if low_open else value < minimum)
    high_bad = maximum is not None and (value >= maximum if high_open else value > maximum)
    if low_bad or high_bad:
        what = f"{name} is {note}: {value:g}" if note else f"{name} {value:g}"
        raise InterfacialError(f"{what}{unit_text} is out of range; give {want}{unit_text}")
    return value


def slab_atoms_estimate(
    structure: Structure, miller: tuple[int, int, int], thickness: float
) -> int:
    """Atoms of a slab of ``thickness`` (A) of facet ``miller`` on its smallest surface cell.

    pymatgen builds slabs from whole oriented unit cells (OUC: two in-plane lattice vectors
    and the shortest out-of-plane one), so a slab holds n_OUC * ceil(t / h) atoms, h = V / A the
    OUC's height. High indices make the OUC tall and every later step (terminations, matching)
    slow, so this is the cost to check before any work.
    """
    from pymatgen.core.surface import SlabGenerator

    ouc = SlabGenerator(structure, miller, thickness, 10.0, primitive=False).oriented_unit_cell
    matrix = ouc.lattice.matrix
    height = ouc.lattice.volume / float(np.linalg.norm(np.cross(matrix[0], matrix[1])))
    return len(ouc) * max(1, math.ceil(thickness / height))


def check_facet_cost(
    structure: Structure,
    miller: tuple[int, int, int],
    thickness: float,
    *,
    what: str,
    limit: int = MAX_SLAB_ATOMS,
) -> None:
    """Refuse a facet whose thinnest slab would hold more than ``limit`` atoms."""
    atoms = slab_atoms_estimate(structure, miller, thickness)
    if atoms > limit:
        label = ",".join(str(i) for i in miller)
        raise InterfacialError(
            f"{what} ({label}) needs about {atoms} atoms for a {thickness:g} A slab on its "
            f"smallest cell (at most {limit}); choose a lower-index facet"
        )


def check_structure(
    structure: Structure,
    source: str,
    *,
    max_atoms: int = MAX_STRUCTURE_ATOMS,
    overlaps: bool = True,
) -> Structure:
    """A crystal the calculators can run: finite, with volume, ordered, known elements, no overlaps.

    Checked in order of cost, so a NaN never reaches a symmetry or neighbour search (where it
    crashes native code). ``overlaps=False`` skips the search for atoms closer than
    :data:`MIN_INTERATOMIC_DISTANCE`, for a structure read only for its species and site
    properties (never computed on).
    """
    from pymatgen.core import Element

    n = len(structure)
    if n == 0:
        raise InterfacialError(f"{source} holds no atoms; give a crystal structure file")
    matrix = np.asarray(structure.lattice.matrix, dtype=float)
    if not np.all(np.isfinite(matrix)):
        raise InterfacialError(
            f"{source}: the cell vectors are not finite numbers (NaN or inf); fix the lattice"
        )
    if not np.all(np.isfinite(structure.frac_coords)):
        bad = int(np.where(~np.isfinite(structure.frac_coords).all(axis=1))[0][0])
        raise InterfacialError(
            f"{source}: the coordinates of site {bad + 1} are not finite numbers; fix the file"
        )
    lengths = np.linalg.norm(matrix, axis=1)
    volume = abs(float(np.linalg.det(matrix)))
    if lengths.min() < 1.0 or volume < MIN_VOLUME_PER_ATOM * n:
        shown = ", ".join(f"{x:.3g}" for x in lengths)
        raise InterfacialError(
            f"{source}: the cell is degenerate (vector lengths {shown} A, volume {volume:.3g} "
            f"A^3 for {n} atoms); give three independent lattice vectors"
        )
    if lengths.max() > MAX_CELL_LENGTH:
        shown = ", ".join(f"{x:.4g}" for x in lengths)
        raise InterfacialError(
            f"{source}: the cell is huge (vector lengths {shown} A, at most {MAX_CELL_LENGTH:g} "
            "A); check the units (A) and the scale factor of the file"
        )
    if not structure.is_ordered:
        raise InterfacialError(
            f"{source} is disordered (partial occupancies); give an ordered cell, e.g. from "
            "pymatgen's OrderDisorderedStructureTransformation"
        )
    unknown = sorted(
        {
            getattr(sp, "symbol", str(sp))  # a DummySpecies prints as 'Xx0+'
            for sp in structure.composition
            if not isinstance(sp, Element) and not hasattr(sp, "element")
        }
    )
    if unknown:
        raise InterfacialError(
            f"{source} contains {', '.join(unknown)}, not a chemical element; fix the species"
        )
    if n > max_atoms:
        raise InterfacialError(
            f"{source} has {n} atoms (at most {max_atoms}); give a smaller cell (a primitive or "
            "conventional cell: supercells are built where needed)"
        )
    if not overlaps:
        return structure
    centres, neighbours, _, distances = structure.get_neighbor_list(MIN_INTERATOMIC_DISTANCE)
    if len(distances):
        k = int(np.argmin(distances))
        raise InterfacialError(
            f"{source}: sites {int(centres[k]) + 1} and {int(neighbours[k]) + 1} are "
            f"{float(distances[k]):.3f} A apart (at least {MIN_INTERATOMIC_DISTANCE} A): "
            "remove duplicated atoms"
        )
    return structure


def check_input_file(path: str | Path, what: str) -> Path:
    """An existing, readable regular file, named ``what`` in the message."""
    p = Path(path).expanduser()
    if not p.exists():
        raise InterfacialError(f"{what} {p}: no such file")
    if p.is_dir():
        raise InterfacialError(f"{what} {p} is a directory; give a file")
    if not p.is_file():
        raise InterfacialError(f"{what} {p} is not a regular file")
    try:
        with p.open("rb"):
            pass
    except OSError as exc:
        raise InterfacialError(f"{what} {p} cannot be read ({exc.strerror})") from None
    return p


def check_output_directory(path: str | Path, what: str) -> Path:
    """A directory that exists or can be created: not a file, not below a file, writable.

    Checked before any work so that a run is not lost at its last step; nothing is created.
    """
    p = Path(path).expanduser()
    if p.exists() and not p.is_dir():
        raise InterfacialError(
            f"{what} {p} is an existing file; give a directory (new or existing)"
        )
    existing = p
    while not existing.exists():
        existing = existing.parent
    if not existing.is_dir():
        raise InterfacialError(
            f"{what} {p} cannot be created: {existing} is a file; give a directory path"
        )
    if not os.access(existing, os.W_OK | os.X_OK):
        raise InterfacialError(f"{what} {p} cannot be written ({existing} is read-only)")
    return p
