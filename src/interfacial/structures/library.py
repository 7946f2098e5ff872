"""The built-in bulk phases, built from their space group and Wyckoff positions.

Lattice constants are experimental (room temperature unless noted); relax with the chosen
calculator before use. Anywhere a name is accepted, a path to any structure file pymatgen reads
(CIF, POSCAR, extxyz, ...) is accepted too.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

from interfacial.errors import InterfacialError

if TYPE_CHECKING:
    from pymatgen.core import Structure


@dataclass(frozen=True)
class BulkPhase:
    """A bulk phase by space group, lattice constants (A) and Wyckoff sites."""

    name: str
    space_group: str
    a: float
    c: float | None
    species: tuple[str, ...]
    frac_coords: tuple[tuple[float, float, float], ...]
    note: str = ""

    def structure(self) -> Structure:
        """Return the conventional standard cell (a fresh copy each call)."""
        return _conventional_cell(self).copy()


@cache
def _conventional_cell(phase: BulkPhase) -> Structure:
    # pymatgen's SpaceGroup builds its operations in pure Python (seconds for Fm-3m): once
    # per process is enough.
    from pymatgen.core import Lattice, Structure

    lattice = Lattice.cubic(phase.a) if phase.c is None else Lattice.hexagonal(phase.a, phase.c)
    return Structure.from_spacegroup(
        phase.space_group, lattice, list(phase.species), [list(x) for x in phase.frac_coords]
    )


_Q = 0.25
BUILTIN_PHASES: dict[str, BulkPhase] = {
    p.name: p
    for p in (
        BulkPhase("Li", "Im-3m", 3.51, None, ("Li",), ((0, 0, 0),), "bcc; 3.48 A at 78 K"),
        BulkPhase("Na", "Im-3m", 4.29, None, ("Na",), ((0, 0, 0),), "bcc; 4.23 A at 5 K"),
        BulkPhase(
            "Li2S", "Fm-3m", 5.708, None, ("S", "Li"), ((0, 0, 0), (_Q, _Q, _Q)), "antifluorite"
        ),
        BulkPhase(
            "Li2O", "Fm-3m", 4.611, None, ("O", "Li"), ((0, 0, 0), (_Q, _Q, _Q)), "antifluorite"
        ),
        BulkPhase(
            "Na2S", "Fm-3m", 6.537, None, ("S", "Na"), ((0, 0, 0), (_Q, _Q, _Q)), "antifluorite"
        ),
        BulkPhase(
            "Na2O", "Fm-3m", 5.55, None, ("O", "Na"), ((0, 0, 0), (_Q, _Q, _Q)), "antifluorite"
        ),
        BulkPhase(
            "LiCl", "Fm-3m", 5.130, None, ("Li", "Cl"), ((0, 0, 0), (0.5, 0.5, 0.5)), "rocksalt"
        ),
        BulkPhase(
            "Li3N",
            "P6/mmm",
            3.648,
            3.875,
            ("N", "Li", "Li"),
            ((0, 0, 0), (0, 0, 0.5), (1 / 3, 2 / 3, 0)),
            "alpha-Li3N",
        ),
        BulkPhase(
            "Li3P",
            "P6_3/mmc",
            4.273,
            7.594,
            ("P", "Li", "Li"),
            ((1 / 3, 2 / 3, 0.25), (0, 0, 0.25), (1 / 3, 2 / 3, 0.584)),
            "Na3As type",
        ),
        BulkPhase(
            "Na3P",
            "P6_3/mmc",
            4.988,
            8.826,
            ("P", "Na", "Na"),
            ((1 / 3, 2 / 3, 0.25), (0, 0, 0.25), (1 / 3, 2 / 3, 0.583)),
            "Na3As type",
        ),
    )
}


def builtin_names() -> list[str]:
    """Names of the built-in phases."""
    return list(BUILTIN_PHASES)


def load_structure(name_or_path: str | Path, *, check_overlaps: bool = True) -> Structure:
    """Return a built-in phase by name, or the structure in a file pymatgen can read.

    A file is checked (:func:`interfacial.validation.check_structure`); ``check_overlaps=False``
    skips the search for overlapping atoms, for a structure read only for its species and site
    properties.

    Raises
    ------
    InterfacialError
        If the name is not built in and no readable structure file exists at that path.

    """
    key = str(name_or_path)
    if key in BUILTIN_PHASES:
        return BUILTIN_PHASES[key].structure()
    path = Path(key).expanduser()
    if not path.exists():
        close = [n for n in BUILTIN_PHASES if n.lower() == key.lower()]
        hint = f" (did you mean {close[0]}?)" if close else ""
        raise InterfacialError(
            f"'{key}' is neither a built-in structure{hint} nor an existing file; "
            f"built-in: {', '.join(BUILTIN_PHASES)}"
        )
    from pymatgen.core import Structure

    from interfacial.validation import check_structure

    if path.is_dir():
        raise InterfacialError(f"{path} is a directory; give a structure file")
    if path.stat().st_size == 0:
        raise InterfacialError(f"{path} is empty; give a structure file (CIF, POSCAR, ...)")
    if _looks_binary(path):
        raise InterfacialError(
            f"cannot read a crystal structure from {path}: it is not a text file; give a CIF, "
            "POSCAR/CONTCAR, extxyz or another format pymatgen reads"
        )
    try:
        with warnings.catch_warnings():
            # pymatgen's CIF parser warns about what it skips; the checks below (and the one
            # error line) say what matters, and a warning would break that one line.
            warnings.simplefilter("ignore")
            structure = Structure.from_file(path)
    except Exception as exc:  # pymatgen raises many types for unreadable files
        raise InterfacialError(
            f"cannot read a crystal structure from {path}: {_why(exc)}"
        ) from None
    return check_structure(structure, str(path), overlaps=check_overlaps)


def _looks_binary(path: Path) -> bool:
    """NUL bytes near the start of an uncompressed file: no structure format pymatgen reads."""
    if path.suffix.lower() in (".gz", ".bz2", ".xz", ".lzma", ".z"):
        return False  # pymatgen decompresses these itself
    with path.open("rb") as fh:
        return b"\0" in fh.read(8192)


def _why(exc: Exception) -> str:
    """What a reader's exception means for the user, and what to do."""
    fix = "give a CIF, POSCAR/CONTCAR, extxyz or another format pymatgen reads"
    if isinstance(exc, UnicodeDecodeError):
        return f"it is not a text file; {fix}"
    if isinstance(exc, IndexError):
        # pymatgen's POSCAR reader indexes lines and values: the file ends early.
        return f"lines or values are missing (a truncated file?); complete the file or {fix}"
    return f"{type(exc).__name__}: {exc}; {fix}"


def structure_label(name_or_path: str | Path, structure: Structure) -> str:
    """A short label for a material: the built-in name, else the reduced formula."""
    key = str(name_or_path)
    return key if key in BUILTIN_PHASES else structure.composition.reduced_formula
