"""MLIP's ``.cfg`` training-set format, read and written with an explicit species order.

Why by hand: ASE's ``cfg`` format is AtomEye's, not MLIP's, and this module is shared by every
engine, so it should not lean on one engine's internals. motep 0.2.0 does have a reader and a
writer, but by default they use an implicit species order (dummy elements when reading, order of
appearance when writing), they write positions and forces with 6 decimals and PlusStress with 5,
and a corrupt file ends in a bare Python exception without a line number. Here the species order
is always explicit (the one stored with the potential), values are written with 10 or more
decimals, and bad input is reported with the configuration or line at fault.

One configuration::

    BEGIN_CFG
     Size
        <number of atoms>
     Supercell                                     (periodic configurations only)
        <a_x a_y a_z>                               (lattice rows, A)
        <b_x b_y b_z>
        <c_x c_y c_z>
     AtomData:  id type cartes_x cartes_y cartes_z fx fy fz
        <1-based id> <type> <x y z (A)> <fx fy fz (eV/A)>
     Energy
        <total energy (eV)>
     PlusStress:  xx yy zz yz xz xy               (optional)
        <-sigma * V (eV)>
     Feature <name> <value>                         (optional, any number)
    END_CFG

``type`` is the 0-based index of the element in ``species_order``.

Sign of PlusStress: MLIP stores the virial ``-sigma * V`` in eV, where ``sigma`` is ASE's stress
(``(1/V) dE/d(strain)``, eV/A^3, positive in tension, Voigt order xx yy zz yz xz xy) and ``V`` the
cell volume (A^3). A compressed cell (sigma < 0) therefore has positive PlusStress diagonal
entries. This is the convention of motep's own reader and writer (``motep.io.mlip.cfg``:
it writes ``-stress * volume`` and reads ``-PlusStress / volume``), checked in the tests by
reading our files with motep.

Features are read into, and written from, ``atoms.info["features"]`` (a ``dict[str, str]``).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import NoReturn

import numpy as np
from ase import Atoms
from ase.calculators.singlepoint import SinglePointCalculator
from ase.data import chemical_symbols

from interfacial.errors import InterfacialError

MIN_TRAINING_CONFIGURATIONS = 2
"""A fit needs at least this many labelled configurations."""

# Printed precision: fixed decimals, so that a written file reads back to exactly these digits.
_LENGTH = "{:16.10f}"  # A
_FORCE = "{:16.10f}"  # eV/A
_ENERGY = "{:24.12f}"  # eV
_VIRIAL = "{:20.10f}"  # eV

_VOIGT = ("xx", "yy", "zz", "yz", "xz", "xy")
_CARTESIAN = ("cartes_x", "cartes_y", "cartes_z")
_DIRECT = ("direct_x", "direct_y", "direct_z")
_FORCES = ("fx", "fy", "fz")


def check_species_order(species_order: Sequence[str]) -> list[str]:
    """Validate a species order: distinct element symbols, at least one.

    Parameters
    ----------
    species_order
        Element symbols; position k is MLIP type k.

    Returns
    -------
    list[str]
        The same symbols as a list.

    Raises
    ------
    InterfacialError
        If it is empty, has duplicates or a symbol that is not an element.

    """
    order = list(species_order)
    if not order:
        raise InterfacialError("species_order is empty: give the element symbols, e.g. ['Li', 'S']")
    unknown = [s for s in order if s not in chemical_symbols or s == "X"]
    if unknown:
        raise InterfacialError(f"species_order {order} has non-element symbols {unknown}")
    if len(set(order)) != len(order):
        raise InterfacialError(f"species_order {order} lists an element twice")
    return order


def _labels(atoms: Atoms, number: int) -> dict:
    """The stored results of a configuration (never computed here)."""
    calc = atoms.calc
    results = getattr(calc, "results", None) if calc is not None else None
    if not results:
        raise InterfacialError(
            f"configuration {number} ({atoms.get_chemical_formula()}) carries no energy and "
            "forces: label it with the reference calculator (a SinglePointCalculator) first"
        )
    return results


def _types(atoms: Atoms, species_order: list[str], number: int) -> list[int]:
    symbols = atoms.get_chemical_symbols()
    missing = sorted(set(symbols) - set(species_order))
    if missing:
        raise InterfacialError(
            f"configuration {number} ({atoms.get_chemical_formula()}) contains {missing}, which "
            f"are not in species_order {species_order}: a potential covers only its species"
        )
    return [species_order.index(s) for s in symbols]


def _format_configuration(
    atoms: Atoms, species_order: list[str], number: int, *, require_labels: bool
) -> str:
    types = _types(atoms, species_order, number)
    results = _labels(atoms, number) if require_labels else dict(getattr(atoms.calc, "results", {}))
    if require_labels:
        absent = [key for key in ("energy", "forces") if key not in results]
        if absent:
            raise InterfacialError(
                f"configuration {number} ({atoms.get_chemical_formula()}) has no "
                f"{' and no '.join(absent)}: a training configuration needs energy (eV) and "
                "forces (eV/A)"
            )
    periodic = bool(atoms.pbc.any())
    if periodic and atoms.cell.rank != 3:
        raise InterfacialError(
            f"configuration {number} is periodic but its cell has rank {atoms.cell.rank}: "
            "give all three lattice vectors"
        )
    lines = ["BEGIN_CFG", " Size", f"    {len(atoms)}"]
    if periodic:
        lines.append(" Supercell")
        lines.extend("    " + "".join(_LENGTH.format(x) for x in row) for row in atoms.cell.array)
    forces = results.get("forces")
    columns = ["id", "type", *_CARTESIAN, *(_FORCES if forces is not None else ())]
    lines.append(" AtomData:  " + " ".join(columns))
    for k, (kind, position) in enumerate(zip(types, atoms.positions, strict=True)):
        row = f"    {k + 1:6d} {kind:4d} " + "".join(_LENGTH.format(x) for x in position)
        if forces is not None:
            row += "".join(_FORCE.format(f) for f in forces[k])
        lines.append(row)
    if "energy" in results:
        lines.extend([" Energy", "    " + _ENERGY.format(float(results["energy"]))])
    stress = results.get("stress")
    if stress is not None and periodic:
        # MLIP's PlusStress is the virial -sigma*V (eV), see the module docstring.
        virial = -np.asarray(stress, dtype=float).reshape(-1)[:6] * atoms.get_volume()
        lines.append(" PlusStress:  " + " ".join(_VOIGT))
        lines.append("    " + "".join(_VIRIAL.format(v) for v in virial))
    for key, value in atoms.info.get("features", {}).items():
        text = str(value)
        if not str(key) or any(c.isspace() for c in str(key)) or "\n" in text:
            raise InterfacialError(
                f"configuration {number}: feature {key!r} = {text!r} cannot be written (the name "
                "must be one word and the value one line)"
            )
        lines.append(f" Feature   {key}\t{text}")
    lines.append("END_CFG")
    return "\n".join(lines) + "\n"


def write_cfg(
    configurations: Iterable[Atoms],
    path: str | Path,
    species_order: Sequence[str],
    *,
    require_labels: bool = True,
) -> Path:
    """Write configurations to an MLIP ``.cfg`` file.

    Parameters
    ----------
    configurations
        Structures with a SinglePointCalculator holding ``energy`` (eV), ``forces`` (eV/A) and
        optionally ``stress`` (ASE's, eV/A^3, Voigt; written as PlusStress = -stress x volume).
    path
        File to write (overwritten).
    species_order
        Element symbols; ``type`` k in the file is ``species_order[k]``.
    require_labels
        If False, configurations without energy or forces are allowed (e.g. candidates for
        labelling); whatever results they carry are written.

    Returns
    -------
    pathlib.Path
        The path written.

    Raises
    ------
    InterfacialError
        For a configuration without energy or forces, an element absent from ``species_order``,
        or a bad species order.

    """
    order = check_species_order(species_order)
    blocks = [
        _format_configuration(atoms, order, number, require_labels=require_labels)
        for number, atoms in enumerate(configurations, start=1)
    ]
    path = Path(path)
    path.write_text("\n".join(blocks), encoding="utf-8")
    return path


class _Lines:
    """The lines of a file with 1-based line numbers, for errors that point at the line.

    Errors name the file as ``name`` and, inside a configuration, its 1-based number.
    """

    def __init__(self, path: Path, name: str) -> None:
        self.name = name
        self.lines = path.read_text(encoding="utf-8").splitlines()
        self.position = 0  # index of the next line
        self.configuration: int | None = None  # 1-based number of the one being read

    @property
    def number(self) -> int:
        """1-based number of the line returned last."""
        return self.position

    def next(self, expecting: str) -> str:
        if self.position >= len(self.lines):
            self.fail(f"the file ends where {expecting} was expected", self.position)
        self.position += 1
        return self.lines[self.position - 1]

    def fail(self, message: str, line: int | None = None) -> NoReturn:
        where = self.number if line is None else line
        raise InterfacialError(f"{self.name}: line {where}: {message}")

    def floats(self, line: str, count: int, what: str) -> list[float]:
        words = line.split()
        if len(words) != count:
            self.fail(f"expected {count} numbers ({what}), found {len(words)}: {line.strip()!r}")
        try:
            values = [float(w) for w in words]
        except ValueError:
            self.fail(f"{what} is not a number: {line.strip()!r}")
        if not all(math.isfinite(v) for v in values):
            of = f" of configuration {self.configuration}" if self.configuration else ""
            self.fail(
                f"{what}{of} is not finite: {line.strip()!r}; fix or remove that configuration"
            )
        return values


def _read_configuration(lines: _Lines, species_order: list[str], start: int) -> Atoms:
    size: int | None = None
    cell: list[list[float]] | None = None
    atom_rows: dict[str, list[float]] | None = None
    energy: float | None = None
    virial: list[float] | None = None
    features: dict[str, str] = {}
    while True:
        line = lines.next(f"END_CFG (configuration opened at line {start})")
        words = line.split()
        if not words:
            continue
        keyword = words[0]
        if keyword == "END_CFG":
            break
        if keyword == "Size":
            text = lines.next("the number of atoms").strip()
            if not text.isdigit() or int(text) == 0:
                lines.fail(f"Size must be a positive whole number, found {text!r}")
            size = int(text)
        elif keyword in {"Supercell", "SuperCell"}:
            cell = [lines.floats(lines.next("a lattice row"), 3, "a lattice row") for _ in range(3)]
        elif keyword in {"AtomData:", "Atomic_data:"}:
            if size is None:
                lines.fail("AtomData comes before Size")
            atom_rows = _read_atom_data(lines, words[1:], size)
        elif keyword == "Energy":
            (energy,) = lines.floats(lines.next("the energy"), 1, "the energy")
        elif keyword == "PlusStress:":
            if words[1:] != list(_VOIGT):
                lines.fail(f"PlusStress components must be {' '.join(_VOIGT)}")
            virial = lines.floats(lines.next("the PlusStress values"), 6, "PlusStress")
        elif keyword == "Feature":
            if len(words) < 3:
                lines.fail("a Feature line needs a name and a value")
            features[words[1]] = line.split(None, 2)[2].strip()
        elif keyword == "BEGIN_CFG":
            lines.fail(f"BEGIN_CFG inside the configuration opened at line {start} (no END_CFG)")
        else:
            lines.fail(f"unknown entry {keyword!r} in a configuration")
    if atom_rows is None:
        lines.fail(f"the configuration opened at line {start} has no AtomData")
    types = [int(t) for t in atom_rows["type"]]
    bad = sorted({t for t in types if not 0 <= t < len(species_order)})
    if bad:
        lines.fail(
            f"the configuration opened at line {start} has types {bad}, but species_order "
            f"{species_order} defines types 0 to {len(species_order) - 1}"
        )
    symbols = [species_order[t] for t in types]
    pbc = cell is not None
    if all(k in atom_rows for k in _CARTESIAN):
        positions = np.column_stack([atom_rows[k] for k in _CARTESIAN])
        atoms = Atoms(symbols=symbols, positions=positions, cell=cell, pbc=pbc)
    elif all(k in atom_rows for k in _DIRECT) and cell is not None:
        scaled = np.column_stack([atom_rows[k] for k in _DIRECT])
        atoms = Atoms(symbols=symbols, scaled_positions=scaled, cell=cell, pbc=True)
    else:
        lines.fail(f"the configuration opened at line {start} has no cartes_x/y/z positions")
    results: dict[str, float | np.ndarray] = {}
    if energy is not None:
        results["energy"] = energy
    if all(k in atom_rows for k in _FORCES):
        results["forces"] = np.column_stack([atom_rows[k] for k in _FORCES])
    if virial is not None:
        if cell is None:
            lines.fail(f"the configuration opened at line {start} has PlusStress but no Supercell")
        results["stress"] = -np.asarray(virial) / atoms.get_volume()
    atoms.calc = SinglePointCalculator(atoms, **results)
    if features:
        atoms.info["features"] = features
    return atoms


def _read_atom_data(lines: _Lines, columns: list[str], size: int) -> dict[str, list[float]]:
    if "type" not in columns:
        lines.fail("AtomData has no 'type' column")
    rows: dict[str, list[float]] = {c: [] for c in columns}
    for _ in range(size):
        values = lines.floats(lines.next("an AtomData row"), len(columns), "an AtomData row")
        for column, value in zip(columns, values, strict=True):
            rows[column].append(value)
    return rows


def read_cfg(
    path: str | Path, species_order: Sequence[str], *, source: str | None = None
) -> list[Atoms]:
    """Read an MLIP ``.cfg`` file.

    Parameters
    ----------
    path
        The file.
    species_order
        Element symbols; ``type`` k in the file is ``species_order[k]``.
    source
        How errors name the file (default: its path); for text that came from elsewhere
        (a store) and was written to a temporary file.

    Returns
    -------
    list[ase.Atoms]
        One structure per configuration, with a SinglePointCalculator holding what the file
        gives: ``energy`` (eV), ``forces`` (eV/A), ``stress`` (eV/A^3, ASE's sign, from
        PlusStress), and ``atoms.info["features"]``.

    Raises
    ------
    InterfacialError
        If the file is missing or corrupt (the message names the line), or uses a type outside
        ``species_order``.

    """
    order = check_species_order(species_order)
    path = Path(path)
    if not path.is_file():
        raise InterfacialError(f"no .cfg file at {path}")
    lines = _Lines(path, source or str(path))
    configurations: list[Atoms] = []
    while lines.position < len(lines.lines):
        line = lines.next("BEGIN_CFG")
        if not line.strip():
            continue
        if line.strip() != "BEGIN_CFG":
            lines.fail(f"expected BEGIN_CFG, found {line.strip()!r}")
        lines.configuration = len(configurations) + 1
        configurations.append(_read_configuration(lines, order, lines.number))
        lines.configuration = None
    return configurations


def check_labels(configurations: Sequence[Atoms], source: str | None = None) -> None:
    """Check that every configuration carries finite energy and forces (and stress, if any).

    Parameters
    ----------
    configurations
        Labelled configurations, in the order of their file.
    source
        How errors name the set (e.g. the user's file); configurations are numbered from 1.

    Raises
    ------
    InterfacialError
        Naming the set, the configuration's number and the field that is missing or not
        finite (NaN or infinite).

    """
    where = f"{source}: " if source else ""
    for number, atoms in enumerate(configurations, start=1):
        formula = atoms.get_chemical_formula()
        calc = atoms.calc
        results = getattr(calc, "results", None) if calc is not None else None
        absent = [key for key in ("energy", "forces") if key not in (results or {})]
        if absent:
            raise InterfacialError(
                f"{where}configuration {number} ({formula}) has no {' and no '.join(absent)}: "
                "a training configuration needs energy (eV) and forces (eV/A)"
            )
        assert results is not None
        for key in ("energy", "forces", "stress"):
            value = results.get(key)
            if value is None:
                continue
            array = np.asarray(value, dtype=float)
            if np.all(np.isfinite(array)):
                continue
            detail = ""
            if key == "forces" and array.ndim == 2:
                atom = int(np.flatnonzero(~np.all(np.isfinite(array), axis=1))[0])
                detail = f" on atom {atom + 1}"
            raise InterfacialError(
                f"{where}configuration {number} ({formula}) has a non-finite {key}{detail} "
                "(NaN or infinite); fix or remove that configuration"
            )


def check_training_set(
    configurations: Sequence[Atoms],
    species_order: Sequence[str],
    source: str | None = None,
    *,
    minimum: int = MIN_TRAINING_CONFIGURATIONS,
) -> None:
    """Check that configurations can train a potential over ``species_order``.

    Parameters
    ----------
    configurations
        The training set.
    species_order
        Element symbols of the potential.
    source
        How errors name the set; configurations are numbered from 1.
    minimum
        Fewest configurations accepted (a validation set may hold one).

    Raises
    ------
    InterfacialError
        If there are fewer than ``minimum`` configurations, one lacks
        energy or forces, one has a non-finite energy, force or stress, or an element outside
        ``species_order``.

    """
    order = check_species_order(species_order)
    if len(configurations) < minimum:
        raise InterfacialError(
            f"a fit needs at least {minimum} labelled configurations, got "
            f"{len(configurations)}{f' in {source}' if source else ''}: run (more) reference "
            "MD first"
        )
    for number, atoms in enumerate(configurations, start=1):
        try:
            _types(atoms, order, number)
        except InterfacialError as exc:
            if source is None:
                raise
            raise InterfacialError(f"{source}: {exc}") from None
    check_labels(configurations, source)
