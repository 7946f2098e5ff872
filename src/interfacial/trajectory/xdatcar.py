"""VASP XDATCAR files: constant-cell (one header) or variable-cell (a header per frame).

XDATCAR frames carry no time: :mod:`interfacial.trajectory.frames` gives frame k the time
``k * time_step_fs / 1000`` ps, ``time_step_fs`` being the time between stored frames (POTIM
times NBLOCK).
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import IO

import numpy as np

from interfacial.errors import InterfacialError
from interfacial.trajectory.compression import open_text
from interfacial.trajectory.frames import FloatArray, RawFrame

__all__ = ["count_xdatcar", "read_xdatcar"]

_CONFIG = re.compile(r"^\s*(direct|cartesian)\s+configuration", re.IGNORECASE)


def read_xdatcar(path: Path, species_order: Sequence[str] | None) -> Iterator[tuple[int, RawFrame]]:
    """Yield (frame number, frame) of an XDATCAR; constant or variable cell (header per frame)."""
    cell: FloatArray | None = None
    symbols: tuple[str, ...] = ()
    with open_text(path) as fh:
        frame_no = 0
        line = fh.readline()
        while line:
            if not line.strip():
                line = fh.readline()
                continue
            match = _CONFIG.match(line)
            if match is None:
                # A header (comment, scale, lattice, symbols, counts): at the top of the file,
                # and before every frame of a variable-cell run.
                where = f"{path}, header before frame {frame_no + 1}"
                cell, symbols = _xdatcar_header(fh, species_order, where)
                line = fh.readline()
                continue
            frame_no += 1
            where = f"{path}, frame {frame_no}"
            if cell is None:
                raise InterfacialError(f"{where}: configuration before any XDATCAR header")
            rows = [fh.readline().split()[:3] for _ in range(len(symbols))]
            try:
                coords = np.array(rows, dtype=float).reshape(len(symbols), 3)
            except ValueError:
                raise InterfacialError(
                    f"{where}: expected {len(symbols)} coordinate lines of 3 numbers; the frame "
                    "is truncated or malformed"
                ) from None
            positions = coords if match.group(1).lower() == "cartesian" else coords @ cell
            yield frame_no, RawFrame(positions, cell.copy(), None, symbols, None, False)
            line = fh.readline()


def _xdatcar_header(
    fh: IO[str], species_order: Sequence[str] | None, where: str
) -> tuple[FloatArray, tuple[str, ...]]:
    try:
        scale = float(fh.readline().split()[0])
        lattice = np.array([[float(v) for v in fh.readline().split()[:3]] for _ in range(3)])
        if lattice.shape != (3, 3):
            raise ValueError
        tokens = fh.readline().split()
        if tokens and all(t.isdigit() for t in tokens):  # VASP 4: no symbols line
            counts = [int(t) for t in tokens]
            if not species_order or len(species_order) != len(counts):
                raise InterfacialError(
                    f"{where}: the XDATCAR has no element line; pass species_order (--species "
                    f"on the command line) with one element per count {counts}"
                )
            names = list(species_order)
        else:
            names = [t.split("/")[0].split("_")[0] for t in tokens]
            counts = [int(t) for t in fh.readline().split()]
            if len(counts) != len(names):
                raise ValueError
    except (ValueError, IndexError):
        raise InterfacialError(
            f"{where}: unreadable XDATCAR header (scale, 3 lattice lines, elements, counts)"
        ) from None
    if scale < 0:  # a negative scale is the cell volume (A^3)
        det = abs(float(np.linalg.det(lattice)))
        if det == 0:
            raise InterfacialError(f"{where}: degenerate lattice in the header")
        scale = (-scale / det) ** (1.0 / 3.0)
    symbols = tuple(name for name, n in zip(names, counts, strict=True) for _ in range(n))
    return lattice * scale, symbols


def count_xdatcar(path: Path) -> int:
    """Number of frames of an XDATCAR (its configuration lines), coordinates unparsed."""
    with open_text(path) as fh:
        return sum(1 for line in fh if _CONFIG.match(line))
