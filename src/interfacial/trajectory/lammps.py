"""LAMMPS text dumps (``dump custom``): frames and a cheap count of their timesteps.

Positions come from the best columns present (unwrapped ``xu yu zu`` / ``xsu ysu zsu``, or
wrapped ones with image flags ``ix iy iz``, else wrapped ones), atoms sorted by id, symbols from
the ``element`` column or from ``type`` and a species order. The dump stores step numbers, not
times: :mod:`interfacial.trajectory.frames` turns them into ps with the MD time step.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterator, Sequence
from itertools import islice
from pathlib import Path
from typing import IO, Any

import numpy as np
from numpy.typing import NDArray

from interfacial.errors import InterfacialError
from interfacial.trajectory.compression import open_text
from interfacial.trajectory.frames import FloatArray, RawFrame

__all__ = ["lammps_steps", "read_lammps"]


def _lammps_box(header: str, lines: list[str], where: str) -> tuple[FloatArray, FloatArray]:
    """Cell (rows a, b, c) and origin (A) from the three BOX BOUNDS lines of a dump."""
    try:
        vals = [[float(v) for v in line.split()] for line in lines]
    except ValueError:
        raise InterfacialError(f"{where}: unreadable BOX BOUNDS lines {lines!r}") from None
    flags = header.split()
    if "abc" in flags:
        # General triclinic: each line is one lattice vector and one origin component.
        if any(len(v) < 4 for v in vals):
            raise InterfacialError(f"{where}: BOX BOUNDS abc origin needs 4 numbers per line")
        cell = np.array([v[:3] for v in vals], dtype=float)
        origin = np.array([v[3] for v in vals], dtype=float)
        return cell, origin
    if any(len(v) < 2 for v in vals):
        raise InterfacialError(f"{where}: BOX BOUNDS lines need lo and hi bounds")
    (xlo_b, xhi_b), (ylo_b, yhi_b), (zlo, zhi) = (v[:2] for v in vals)
    if "xy" in flags:
        if any(len(v) < 3 for v in vals):
            raise InterfacialError(f"{where}: triclinic BOX BOUNDS lines need a tilt factor")
        xy, xz, yz = vals[0][2], vals[1][2], vals[2][2]
        # The dump gives the bounding box of the tilted cell: remove the tilt extents.
        xlo = xlo_b - min(0.0, xy, xz, xy + xz)
        xhi = xhi_b - max(0.0, xy, xz, xy + xz)
        ylo = ylo_b - min(0.0, yz)
        yhi = yhi_b - max(0.0, yz)
    else:
        xy = xz = yz = 0.0
        xlo, xhi, ylo, yhi = xlo_b, xhi_b, ylo_b, yhi_b
    cell = np.array([[xhi - xlo, 0.0, 0.0], [xy, yhi - ylo, 0.0], [xz, yz, zhi - zlo]])
    return cell, np.array([xlo, ylo, zlo])


class AtomTable:
    """The ATOMS block of one dump frame as whitespace tokens, read column by column."""

    def __init__(self, tokens: list[str], names: list[str]) -> None:
        self._tokens = tokens
        self._ncol = len(names)
        self.columns = {name: k for k, name in enumerate(names)}
        self.order: NDArray[np.intp] | None = None  # row order (sorted ids)

    def __contains__(self, name: str) -> bool:
        return name in self.columns

    def _raw(self, name: str) -> list[str]:
        return self._tokens[self.columns[name] :: self._ncol]

    def numbers(self, name: str, dtype: type = float) -> NDArray[Any]:
        values: NDArray[Any] = np.array(self._raw(name), dtype=dtype)
        return values if self.order is None else values[self.order]

    def strings(self, name: str) -> list[str]:
        values = self._raw(name)
        return values if self.order is None else [values[i] for i in self.order]


def lammps_symbols(
    table: AtomTable, species_order: Sequence[str] | None, where: str
) -> tuple[str, ...]:
    if "element" in table:
        return tuple(table.strings("element"))
    if "type" not in table:
        raise InterfacialError(
            f"{where}: the dump has neither an 'element' nor a 'type' column; add one to the "
            "dump custom command"
        )
    if not species_order:
        raise InterfacialError(
            f"{where}: the dump has atom types but no 'element' column; pass species_order "
            "(--species on the command line: the element of type 1, 2, ..., e.g. S,Li) or add "
            "'element' with dump_modify element"
        )
    try:
        types = table.numbers("type", np.int64)
    except ValueError:
        raise InterfacialError(f"{where}: non-integer atom types") from None
    bad = types[(types < 1) | (types > len(species_order))]
    if bad.size:
        raise InterfacialError(
            f"{where}: atom type {int(bad[0])} is outside species_order {list(species_order)} "
            f"(types 1..{len(species_order)}); give one element per LAMMPS atom type "
            "(species_order, --species on the command line)"
        )
    lookup = np.array(list(species_order), dtype=object)
    return tuple(lookup[types - 1])


def lammps_coordinates(
    table: AtomTable, cell: FloatArray, origin: FloatArray, where: str
) -> tuple[FloatArray, bool]:
    """Cartesian positions (A) and whether they are unwrapped, from the best columns present."""

    def block(names: tuple[str, str, str]) -> FloatArray | None:
        if not all(n in table for n in names):
            return None
        try:
            return np.column_stack([table.numbers(n) for n in names])
        except ValueError:
            raise InterfacialError(f"{where}: non-numeric {' '.join(names)} values") from None

    images = block(("ix", "iy", "iz"))
    cart_u = block(("xu", "yu", "zu"))
    if cart_u is not None:
        return cart_u, True
    cart = block(("x", "y", "z"))
    if cart is not None and images is not None:
        return cart + images @ cell, True
    scaled_u = block(("xsu", "ysu", "zsu"))
    if scaled_u is not None:
        return origin + scaled_u @ cell, True
    scaled = block(("xs", "ys", "zs"))
    if scaled is not None and images is not None:
        return origin + (scaled + images) @ cell, True
    if cart is not None:
        return cart, False
    if scaled is not None:
        return origin + scaled @ cell, False
    raise InterfacialError(
        f"{where}: no coordinate columns (x y z, xu yu zu, xs ys zs or xsu ysu zsu) in the dump; "
        f"got {sorted(table.columns, key=table.columns.__getitem__)}"
    )


def _next_item(fh: IO[str], where: str, expected: str) -> str:
    """Next non-blank line, which must start with ``ITEM: <expected>``."""
    line = fh.readline()
    while line and not line.strip():
        line = fh.readline()
    if not line.startswith(f"ITEM: {expected}"):
        got = line.strip() or "end of file"
        raise InterfacialError(
            f"{where}: expected 'ITEM: {expected}', got {got!r}: not a LAMMPS text dump or a "
            "truncated one"
        )
    return line


def read_lammps(path: Path, species_order: Sequence[str] | None) -> Iterator[tuple[int, RawFrame]]:
    """Yield (timestep, frame) of a LAMMPS text dump; the frame's time is None.

    ``species_order`` names the element of atom type 1, 2, ... (needed without an
    ``element`` column).
    """
    with open_text(path) as fh:
        frame_no = 0
        while True:
            line = fh.readline()
            while line and not line.strip():
                line = fh.readline()
            if not line:
                return
            frame_no += 1
            where = f"{path}, frame {frame_no}"
            # Optional items before the timestep (dump_modify units yes / time yes): skipped.
            while line.startswith(("ITEM: UNITS", "ITEM: TIME")) and not line.startswith(
                "ITEM: TIMESTEP"
            ):
                fh.readline()
                line = fh.readline()
            if not line.startswith("ITEM: TIMESTEP"):
                raise InterfacialError(
                    f"{where}: expected 'ITEM: TIMESTEP', got {line.strip()!r}: not a LAMMPS "
                    "text dump (use fmt= for other formats)"
                )
            try:
                step = int(fh.readline().split()[0])
                item = fh.readline()
                if not item.startswith("ITEM: NUMBER OF ATOMS"):
                    raise InterfacialError(
                        f"{where}: expected 'ITEM: NUMBER OF ATOMS', got {item.strip()!r}"
                    )
                n_atoms = int(fh.readline().split()[0])
            except (ValueError, IndexError):
                raise InterfacialError(f"{where}: unreadable timestep or atom count") from None
            box_header = _next_item(fh, where, "BOX BOUNDS")
            box_lines = [fh.readline() for _ in range(3)]
            cell, origin = _lammps_box(box_header[len("ITEM: BOX BOUNDS") :], box_lines, where)
            atoms_header = _next_item(fh, where, "ATOMS")
            names = atoms_header.split()[2:]
            tokens = "".join([fh.readline() for _ in range(n_atoms)]).split()
            if len(tokens) != n_atoms * len(names):
                raise InterfacialError(
                    f"{where}: {n_atoms} atom lines of {len(names)} columns expected; the frame "
                    "is truncated or malformed (drop it, e.g. cut the file before it)"
                )
            table = AtomTable(tokens, names)
            if "id" not in table:
                raise InterfacialError(
                    f"{where}: the dump has no 'id' column, so atoms cannot be followed between "
                    "frames; add 'id' to the dump custom command"
                )
            try:
                ids = table.numbers("id", np.int64)
            except ValueError:
                raise InterfacialError(f"{where}: non-integer atom ids") from None
            order = np.argsort(ids, kind="stable")
            table.order = order
            ids = ids[order]
            if ids.size > 1 and np.any(ids[1:] == ids[:-1]):
                raise InterfacialError(f"{where}: atom ids repeat within the frame")
            symbols = lammps_symbols(table, species_order, where)
            positions, unwrapped = lammps_coordinates(table, cell, origin, where)
            yield step, RawFrame(positions, cell, None, symbols, ids, unwrapped)


def lammps_steps(path: Path) -> list[int]:
    """Timesteps of a LAMMPS text dump, skipping atom lines unparsed."""
    steps: list[int] = []
    n_atoms = 0
    with open_text(path) as fh:
        line = fh.readline()
        while line:
            if line.startswith("ITEM: TIMESTEP"):
                try:
                    steps.append(int(fh.readline().split()[0]))
                except (ValueError, IndexError):
                    raise InterfacialError(f"{path}: unreadable timestep") from None
            elif line.startswith("ITEM: NUMBER OF ATOMS"):
                try:
                    n_atoms = int(fh.readline().split()[0])
                except (ValueError, IndexError):
                    raise InterfacialError(f"{path}: unreadable atom count") from None
            elif line.startswith("ITEM: ATOMS"):
                deque(islice(fh, n_atoms), maxlen=0)  # skip the atom lines at C speed
            line = fh.readline()
    return steps
