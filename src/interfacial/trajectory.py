"""Streaming MD trajectory readers and the MSD of a trajectory on disk.

Readers yield one :class:`Frame` at a time, so memory does not depend on the length of the run:
LAMMPS text dumps (``dump custom``), ASE ``.traj`` files, extended XYZ and VASP XDATCAR.
Several files (segments of one run) read as one trajectory. Every frame is checked (atom count,
symbols, ids, cell, time) and bad input raises :class:`~interfacial.errors.InterfacialError`
naming the file, the frame and what to do.

:func:`trajectory_msd` feeds frames to :class:`~interfacial.analysis.diffusion.StreamingMSD`,
unwrapping periodic coordinates on the way; :func:`default_groups` and :func:`parse_group` build
the atom groups; :func:`fit_window_default` and :func:`check_fit_window` choose and check the
MSD fit window. D* then comes from :meth:`MSDResult.diffusivity`.

Units: positions and cells in A, times in ps, MD time steps in fs.

Time of a frame, by format:

- LAMMPS dump: ``timestep * time_step_fs / 1000``; ``time_step_fs`` is the MD integration step
  (the dump stores the step number, not the step length), so it is required.
- XDATCAR: ``frame_index * time_step_fs / 1000``; here ``time_step_fs`` is the time between
  STORED frames (POTIM times the storage stride, NBLOCK), required.
- ASE ``.traj`` / extended XYZ: ``frame_index * time_step_fs / 1000`` (time between stored
  frames) when ``time_step_fs`` is given; otherwise ``atoms.info["time"]`` in ps, which every
  frame must then carry. ``frame_index`` counts frames across all files, from 0.
"""

from __future__ import annotations

import json
import math
import os
import re
from collections import deque
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from itertools import islice
from pathlib import Path
from typing import IO, Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from interfacial.analysis.diffusion import (
    MIN_FIT_POINTS,
    MSDResult,
    StreamingMSD,
    Unwrapper,
    fit_window_default,
    fit_window_problem,
)
from interfacial.errors import InterfacialError

__all__ = [
    "FORMATS",
    "RUN_STATE_FILE",
    "Frame",
    "FrameReader",
    "check_fit_window",
    "count_frames",
    "default_groups",
    "fit_window_default",
    "guess_format",
    "iter_frames",
    "measured_temperature",
    "parse_group",
    "trajectory_msd",
]

#: Formats :func:`iter_frames` reads.
FORMATS = ("lammps", "traj", "extxyz", "xdatcar")

PathLike = str | os.PathLike[str]
FloatArray = NDArray[np.float64]

# Smallest |det(cell)| / (|a| |b| |c|) accepted: a cell flatter than this is degenerate.
_MIN_CELL_SHAPE = 1e-6
# Two times closer than this (ps) are the same time (boundary frame of dump segments).
_TIME_TOL = 1e-9


@dataclass(frozen=True, eq=False)
class Frame:
    """One MD frame.

    Attributes
    ----------
    positions : numpy.ndarray, shape (n_atoms, 3)
        Cartesian positions (A), in the order of sorted atom ids when the source has ids;
        absolute, as the source gives them (a LAMMPS box origin is not subtracted).
    cell : numpy.ndarray, shape (3, 3)
        Cell, rows are the lattice vectors (A).
    time : float
        Time (ps).
    symbols : tuple[str, ...]
        Chemical symbol of each atom.
    ids : numpy.ndarray or None
        Atom ids of the source (LAMMPS ids, sorted), or None when the source has none.
    unwrapped : bool
        True when the source gives unwrapped (continuous) coordinates; False when positions may
        be wrapped into the cell and need unwrapping before an MSD. ASE files are always False:
        unwrapping continuous coordinates by the minimum image changes nothing as long as no
        atom moves half a cell between stored frames.

    """

    positions: FloatArray
    cell: FloatArray
    time: float
    symbols: tuple[str, ...]
    ids: NDArray[np.int64] | None
    unwrapped: bool


@dataclass(frozen=True, eq=False)
class _Raw:
    """A frame as a reader sees it: time None means 'from the frame index'."""

    positions: FloatArray
    cell: FloatArray
    time: float | None
    symbols: tuple[str, ...]
    ids: NDArray[np.int64] | None
    unwrapped: bool


# --------------------------------------------------------------------------------------------
# Format detection
# --------------------------------------------------------------------------------------------


def guess_format(path: PathLike) -> str:
    """Trajectory format from a file name.

    ``*.dump``, ``dump.*``, ``*.lammpstrj`` -> "lammps"; ``*.traj`` -> "traj";
    ``XDATCAR*`` -> "xdatcar"; ``*.extxyz``, ``*.xyz`` -> "extxyz".

    Raises
    ------
    InterfacialError
        The name matches no known pattern.

    """
    name = Path(path).name
    lower = name.lower()
    if lower.endswith((".dump", ".lammpstrj")) or lower.startswith("dump.") or lower == "dump":
        return "lammps"
    if lower.endswith(".traj"):
        return "traj"
    if name.upper().startswith("XDATCAR"):
        return "xdatcar"
    if lower.endswith((".extxyz", ".xyz")):
        return "extxyz"
    raise InterfacialError(
        f"{path}: cannot tell the trajectory format from the name; pass fmt= one of {FORMATS} "
        "(or --format on the command line)"
    )


def _resolve_format(path: Path, fmt: str | None) -> str:
    if fmt is None:
        return guess_format(path)
    kind = fmt.lower().replace("-", "").replace("_", "")
    aliases = {
        "lammps": "lammps",
        "lammpsdump": "lammps",
        "lammpsdumptext": "lammps",
        "dump": "lammps",
        "lammpstrj": "lammps",
        "traj": "traj",
        "ase": "traj",
        "extxyz": "extxyz",
        "xyz": "extxyz",
        "xdatcar": "xdatcar",
        "vaspxdatcar": "xdatcar",
    }
    if kind not in aliases:
        raise InterfacialError(f"{path}: unknown trajectory format {fmt!r}; use one of {FORMATS}")
    return aliases[kind]


def _as_paths(path: PathLike | Sequence[PathLike]) -> list[Path]:
    paths = [Path(path)] if isinstance(path, str | os.PathLike) else [Path(p) for p in path]
    if not paths:
        raise InterfacialError("no trajectory file given")
    for p in paths:
        if not p.is_file():
            raise InterfacialError(f"{p}: trajectory file not found")
    return paths


# --------------------------------------------------------------------------------------------
# LAMMPS text dumps
# --------------------------------------------------------------------------------------------


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


class _AtomTable:
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


def _lammps_symbols(
    table: _AtomTable, species_order: Sequence[str] | None, where: str
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


def _lammps_coordinates(
    table: _AtomTable, cell: FloatArray, origin: FloatArray, where: str
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


def _read_lammps(path: Path, species_order: Sequence[str] | None) -> Iterator[tuple[int, _Raw]]:
    """Yield (timestep, frame) of a LAMMPS text dump; the frame's time is None."""
    with path.open() as fh:
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
            table = _AtomTable(tokens, names)
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
            symbols = _lammps_symbols(table, species_order, where)
            positions, unwrapped = _lammps_coordinates(table, cell, origin, where)
            yield step, _Raw(positions, cell, None, symbols, ids, unwrapped)


# --------------------------------------------------------------------------------------------
# VASP XDATCAR
# --------------------------------------------------------------------------------------------

_CONFIG = re.compile(r"^\s*(direct|cartesian)\s+configuration", re.IGNORECASE)


def _read_xdatcar(path: Path, species_order: Sequence[str] | None) -> Iterator[tuple[int, _Raw]]:
    """Yield (frame number, frame) of an XDATCAR; constant or variable cell (header per frame)."""
    cell: FloatArray | None = None
    symbols: tuple[str, ...] = ()
    with path.open() as fh:
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
            yield frame_no, _Raw(positions, cell.copy(), None, symbols, None, False)
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


# --------------------------------------------------------------------------------------------
# ASE formats (.traj, extended XYZ)
# --------------------------------------------------------------------------------------------


def _read_ase(path: Path, kind: str, use_info_time: bool) -> Iterator[tuple[int, _Raw]]:
    import ase.io

    ase_format = "traj" if kind == "traj" else "extxyz"
    frame_no = 0
    try:
        for atoms in ase.io.iread(str(path), index=":", format=ase_format):
            frame_no += 1
            where = f"{path}, frame {frame_no}"
            time: float | None = None
            if use_info_time:
                if "time" not in atoms.info:
                    raise InterfacialError(
                        f"{where}: no atoms.info['time'] (ps) and no time_step_fs; pass "
                        "time_step_fs, the time between stored frames (fs)"
                    )
                try:
                    time = float(atoms.info["time"])
                except (TypeError, ValueError):
                    raise InterfacialError(f"{where}: atoms.info['time'] is not a number") from None
            ids = None
            if "id" in atoms.arrays:
                ids = np.asarray(atoms.arrays["id"], dtype=np.int64)
            yield (
                frame_no,
                _Raw(
                    np.array(atoms.positions, dtype=float),
                    np.array(atoms.cell.array, dtype=float),
                    time,
                    tuple(atoms.get_chemical_symbols()),
                    ids,
                    False,
                ),
            )
    except InterfacialError:
        raise
    except Exception as exc:  # ASE raises many types for a malformed file
        raise InterfacialError(
            f"{path}, frame {frame_no + 1}: ASE cannot read it as {ase_format}: {exc}"
        ) from exc


# --------------------------------------------------------------------------------------------
# Public reader
# --------------------------------------------------------------------------------------------


class _FrameChecker:
    """Checks each frame against the first one and the previous time."""

    def __init__(self) -> None:
        self.n_frames = 0
        self._first: Frame | None = None
        self._last_time = -math.inf

    def __call__(self, frame: Frame, where: str) -> None:
        cell = frame.cell
        if cell.shape != (3, 3) or not np.all(np.isfinite(cell)):
            raise InterfacialError(f"{where}: missing or non-finite cell; write the periodic cell")
        lengths = np.linalg.norm(cell, axis=1)
        if np.any(lengths <= 0) or (
            abs(float(np.linalg.det(cell))) < _MIN_CELL_SHAPE * float(np.prod(lengths))
        ):
            raise InterfacialError(
                f"{where}: missing or degenerate cell {cell.tolist()} (zero volume); write the "
                "periodic cell into the trajectory"
            )
        if frame.positions.ndim != 2 or frame.positions.shape[1] != 3:
            raise InterfacialError(f"{where}: positions have shape {frame.positions.shape}")
        if not np.all(np.isfinite(frame.positions)):
            raise InterfacialError(f"{where}: non-finite positions")
        if len(frame.symbols) != frame.positions.shape[0]:
            raise InterfacialError(
                f"{where}: {len(frame.symbols)} symbols for {frame.positions.shape[0]} atoms"
            )
        first = self._first
        if first is None:
            self._first = frame
        else:
            n0, n = first.positions.shape[0], frame.positions.shape[0]
            if n != n0:
                raise InterfacialError(
                    f"{where}: {n} atoms but the first frame has {n0}; an MSD needs the same atoms "
                    "in every frame (do not mix runs of different cells)"
                )
            if frame.symbols != first.symbols:
                k = next(
                    i
                    for i, (a, b) in enumerate(zip(frame.symbols, first.symbols, strict=True))
                    if a != b
                )
                raise InterfacialError(
                    f"{where}: atom {k} is {frame.symbols[k]} but was {first.symbols[k]} in the "
                    "first frame; symbols must not change (check species_order / the segments)"
                )
            same_ids = (frame.ids is None and first.ids is None) or (
                frame.ids is not None
                and first.ids is not None
                and np.array_equal(frame.ids, first.ids)
            )
            if not same_ids:
                raise InterfacialError(
                    f"{where}: atom ids differ from the first frame's; atoms were added, lost or "
                    "renumbered, so they cannot be followed"
                )
        if not frame.time > self._last_time:
            raise InterfacialError(
                f"{where}: time {frame.time} ps does not increase (previous {self._last_time} "
                "ps); check the order of the files and time_step_fs"
            )
        self._last_time = frame.time
        self.n_frames += 1


def iter_frames(
    path: PathLike | Sequence[PathLike],
    *,
    fmt: str | None = None,
    time_step_fs: float | None = None,
    species_order: Sequence[str] | None = None,
) -> FrameReader:
    """Read a trajectory one frame at a time; memory does not grow with its length.

    Parameters
    ----------
    path : path or sequence of paths
        One trajectory file, or the files of consecutive segments of one run in order. A
        segment's first frame is dropped when its time equals the previous segment's last
        time (LAMMPS writes the restart step into both dumps).
    fmt : str, optional
        "lammps", "traj", "extxyz" or "xdatcar"; guessed from each file name when omitted
        (see :func:`guess_format`).
    time_step_fs : float, optional
        For LAMMPS dumps, the MD time step (fs): time = timestep * time_step_fs / 1000 ps.
        For XDATCAR, .traj and extended XYZ, the time between stored frames (fs): time =
        frame index * time_step_fs / 1000 ps. Required for LAMMPS and XDATCAR; for ASE files
        it may be omitted when every frame has ``atoms.info["time"]`` in ps.
    species_order : sequence of str, optional
        Element of LAMMPS atom type 1, 2, ... (required when a dump has ``type`` but no
        ``element`` column); for VASP 4 XDATCARs without an element line, the elements in order.

    Returns
    -------
    FrameReader
        An iterator of :class:`Frame` (positions sorted by atom id for LAMMPS). LAMMPS frames
        are ``unwrapped`` when the dump has ``xu yu zu`` / ``xsu ysu zsu`` or image flags
        ``ix iy iz``; other formats are treated as possibly wrapped. Its ``count()`` counts the
        frames by a cheap scan, which :func:`trajectory_msd` uses for its default ``max_lag``.

    Raises
    ------
    InterfacialError
        Missing file, unknown format, missing time step or species order, a malformed or
        truncated frame, a missing or degenerate cell, atom counts, symbols or ids that change,
        time that does not increase, type numbers outside ``species_order``, or fewer than 2
        frames (raised when the files are exhausted). Missing files, unknown formats and a
        missing time step are reported at the call, the rest while reading. The message names
        the file and the frame.

    """
    paths = _as_paths(path)
    if time_step_fs is not None and not (time_step_fs > 0 and math.isfinite(time_step_fs)):
        raise InterfacialError(
            f"the time step (time_step_fs, --time-step on the command line) must be a positive "
            f"number of fs, got {time_step_fs:g}"
        )
    kinds = [_resolve_format(p, fmt) for p in paths]
    for p, kind in zip(paths, kinds, strict=True):
        if kind in ("lammps", "xdatcar") and time_step_fs is None:
            what = "MD time step" if kind == "lammps" else "time between stored frames"
            raise InterfacialError(
                f"{p}: a {kind} trajectory does not store its time step; pass time_step_fs "
                f"(--time-step on the command line: the {what}, fs)"
            )
    return FrameReader(paths, kinds, fmt, time_step_fs, species_order)


def _generate_frames(
    paths: list[Path],
    kinds: list[str],
    time_step_fs: float | None,
    species_order: Sequence[str] | None,
) -> Iterator[Frame]:
    check = _FrameChecker()
    index = 0  # frames yielded so far, across files
    last_time: float | None = None
    for file_no, (p, kind) in enumerate(zip(paths, kinds, strict=True)):
        raws: Iterator[tuple[int, _Raw]]
        if kind == "lammps":
            raws = _read_lammps(p, species_order)
        elif kind == "xdatcar":
            raws = _read_xdatcar(p, species_order)
        else:
            raws = _read_ase(p, kind, use_info_time=time_step_fs is None)
        first_of_file = True
        for number, raw in _text_checked(raws, p, kind):
            if kind == "lammps":
                assert time_step_fs is not None
                time = number * time_step_fs / 1000.0
            elif raw.time is not None:
                time = raw.time
            else:
                assert time_step_fs is not None
                time = index * time_step_fs / 1000.0
            if (
                first_of_file
                and file_no > 0
                and last_time is not None
                and abs(time - last_time) <= _TIME_TOL
            ):
                first_of_file = False
                continue  # the boundary frame, already read from the previous segment
            first_of_file = False
            frame = Frame(raw.positions, raw.cell, time, raw.symbols, raw.ids, raw.unwrapped)
            label = f"step {number}" if kind == "lammps" else f"frame {number}"
            check(frame, f"{p}, {label}")
            index += 1
            last_time = time
            yield frame
    if check.n_frames < 2:
        names = ", ".join(str(p) for p in paths)
        raise InterfacialError(
            f"{names}: {check.n_frames} frame(s); an MSD needs at least 2 (store frames more "
            "often or run longer)"
        )


def _text_checked(
    raws: Iterator[tuple[int, _Raw]], path: Path, kind: str
) -> Iterator[tuple[int, _Raw]]:
    """``raws``, with a binary file reported as an InterfacialError rather than a decode error."""
    try:
        yield from raws
    except UnicodeDecodeError:
        raise InterfacialError(
            f"{path}: not a text file, so not a {kind} trajectory; check the file, or give its "
            f"format (fmt=, --format on the command line: one of {FORMATS})"
        ) from None


class FrameReader(Iterator[Frame]):
    """Iterator over the frames of trajectory files, as returned by :func:`iter_frames`.

    Reads one frame per ``next()``; :meth:`count` counts the frames of its files without
    parsing coordinates.
    """

    def __init__(
        self,
        paths: list[Path],
        kinds: list[str],
        fmt: str | None,
        time_step_fs: float | None,
        species_order: Sequence[str] | None,
    ) -> None:
        self.paths = list(paths)
        self._fmt = fmt
        self._frames = _generate_frames(self.paths, kinds, time_step_fs, species_order)

    def __iter__(self) -> FrameReader:
        return self

    def __next__(self) -> Frame:
        return next(self._frames)

    def count(self) -> int:
        """Frames in the files (all of them, however many were read), see :func:`count_frames`."""
        return count_frames(self.paths, fmt=self._fmt)


def count_frames(
    path: PathLike | Sequence[PathLike],
    *,
    fmt: str | None = None,
) -> int:
    """Number of frames :func:`iter_frames` would yield, by a cheap scan (no coordinates parsed).

    Use it to choose ``max_lag`` for :func:`trajectory_msd` when the frames come from an
    iterator. Boundary frames of LAMMPS segments are counted once; for other formats every
    frame counts (their segments have no repeated frame).

    Raises
    ------
    InterfacialError
        Missing file or unknown format.

    """
    paths = _as_paths(path)
    total = 0
    last_step: int | None = None
    for file_no, p in enumerate(paths):
        kind = _resolve_format(p, fmt)
        try:
            if kind == "lammps":
                steps = _lammps_steps(p)
                if file_no > 0 and steps and last_step is not None and steps[0] == last_step:
                    steps = steps[1:]
                if steps:
                    last_step = steps[-1]
                total += len(steps)
            elif kind == "xdatcar":
                with p.open() as fh:
                    total += sum(1 for line in fh if _CONFIG.match(line))
            elif kind == "traj":
                from ase.io.trajectory import Trajectory

                try:
                    with Trajectory(str(p)) as traj:
                        total += len(traj)
                except Exception as exc:  # ASE raises many types for a malformed file
                    raise InterfacialError(f"{p}: ASE cannot read it as traj: {exc}") from exc
            else:
                total += _count_xyz(p)
        except UnicodeDecodeError:
            raise InterfacialError(
                f"{p}: not a text file, so not a {kind} trajectory; check the file or its format"
            ) from None
    return total


def _lammps_steps(path: Path) -> list[int]:
    """Timesteps of a LAMMPS text dump, skipping atom lines unparsed."""
    steps: list[int] = []
    n_atoms = 0
    with path.open() as fh:
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


def _count_xyz(path: Path) -> int:
    n = 0
    with path.open() as fh:
        line = fh.readline()
        while line:
            if not line.strip():
                line = fh.readline()
                continue
            try:
                n_atoms = int(line.split()[0])
            except ValueError:
                raise InterfacialError(f"{path}: frame {n + 1} lacks its atom-count line") from None
            for _ in range(n_atoms + 1):
                fh.readline()
            n += 1
            line = fh.readline()
    return n


#: Boltzmann constant in eV/K (CODATA 2018, exact in the SI).
_BOLTZMANN_EV_PER_K = 8.617333262e-5


def measured_temperature(
    path: PathLike | Sequence[PathLike], *, fmt: str | None = None
) -> float | None:
    """Mean kinetic temperature (K) recorded with a trajectory, or None when none is recorded.

    - ASE files (.traj, extended XYZ) that store momenta: the mean over frames of
      ``2 E_kin / ((3 N - 3) k_B)`` (E_kin in eV from ASE; 3 degrees of freedom of the centre
      of mass removed, as LAMMPS ``compute temp`` does). Reads the files once more.
    - LAMMPS dumps written by our segmented MD runner (:class:`interfacial.lammps.segments.
      SegmentedMD`): the run directory holding a dump also holds :data:`RUN_STATE_FILE`, whose
      completed segments carry their stage, step count and mean thermo temperature. The result
      is the step-weighted mean ``sum(steps * T) / sum(steps)`` over the production segments
      (those that wrote a dump) whose dumps are among ``path``; the same number the runner
      reports as ``mean_production_temperature`` when all its dumps are given. Dumps no run
      record lists contribute nothing; None when none is listed.
    - Other LAMMPS dumps, XDATCARs and a mix of formats give None: they hold no velocities in
      units this reader can assume.

    Parameters
    ----------
    path : path or sequence of paths
        The trajectory file(s), as for :func:`iter_frames`.
    fmt : str, optional
        Format, guessed from each file name when omitted.

    Returns
    -------
    float or None
        Temperature (K).

    Raises
    ------
    InterfacialError
        Missing file, unknown format, an unreadable ASE file or an unreadable run record.

    """
    paths = _as_paths(path)
    kinds = {_resolve_format(p, fmt) for p in paths}
    if kinds == {"lammps"}:
        return _recorded_run_temperature(paths)
    if not kinds <= {"traj", "extxyz"}:
        return None
    import ase.io

    temperatures: list[float] = []
    for p in paths:
        kind = _resolve_format(p, fmt)
        try:
            for atoms in ase.io.iread(str(p), index=":", format=kind):
                if "momenta" not in atoms.arrays or len(atoms) < 2:
                    return None
                dof = 3 * len(atoms) - 3
                kinetic = float(atoms.get_kinetic_energy())  # eV
                temperatures.append(2.0 * kinetic / (dof * _BOLTZMANN_EV_PER_K))
        except Exception as exc:  # ASE raises many types for a malformed file
            raise InterfacialError(f"{p}: ASE cannot read it as {kind}: {exc}") from exc
    return float(np.mean(temperatures)) if temperatures else None


#: Run record our segmented MD runner keeps next to its dumps (``interfacial.lammps.record``).
RUN_STATE_FILE = "md_state.json"


def _production_segments(state_file: Path) -> list[dict[str, Any]]:
    """Completed segments of a run record that wrote a dump (its production), as stored."""
    try:
        state = json.loads(state_file.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InterfacialError(
            f"{state_file}: unreadable MD run record ({exc}); restore it or analyse copies of "
            "the dumps outside the run directory"
        ) from None
    segments = state.get("segments") if isinstance(state, dict) else None
    if not isinstance(segments, list) or not all(isinstance(s, dict) for s in segments):
        raise InterfacialError(f"{state_file}: not an MD run record (no list of segments)")
    return [s for s in segments if s.get("dump_file")]


def recorded_md_plan(paths: PathLike | Sequence[PathLike]) -> dict[str, Any] | None:
    """Time step (fs) and species order of our own MD run that wrote these dumps, if any.

    Read from the run record (``md_state.json``) next to the first file; None for any other
    trajectory. Lets ``interfacial diffusion`` fill in or check ``--time-step`` and
    ``--species`` for runs made by interfacial.
    """
    first = _as_paths(paths)[0].resolve()
    state_file = first.parent / RUN_STATE_FILE
    if not state_file.is_file():
        return None
    _production_segments(state_file)  # validates the record
    state = json.loads(state_file.read_text(encoding="utf-8"))
    plan = state.get("plan") or {}
    if "time_step_fs" not in plan or "species_order" not in plan:
        return None
    return {
        "time_step_fs": float(plan["time_step_fs"]),
        "species_order": [str(s) for s in plan["species_order"]],
    }


def _recorded_run_temperature(paths: Sequence[Path]) -> float | None:
    """Step-weighted mean temperature (K) of the run-record segments that wrote ``paths``."""
    records: dict[Path, list[dict[str, Any]]] = {}
    weighted = 0.0
    steps = 0.0
    for p in paths:
        real = p.resolve()
        state_file = real.parent / RUN_STATE_FILE
        if not state_file.is_file():
            continue
        if state_file not in records:
            records[state_file] = _production_segments(state_file)
        for seg in records[state_file]:
            if Path(str(seg["dump_file"])).name != real.name:
                continue
            try:
                n = float(seg["steps"])
                temperature = float(seg["mean_temperature"])
            except (KeyError, TypeError, ValueError):
                raise InterfacialError(
                    f"{state_file}: the segment of {real.name} lacks 'steps' or 'mean_temperature'"
                ) from None
            if not (n > 0 and math.isfinite(temperature)):
                raise InterfacialError(
                    f"{state_file}: the segment of {real.name} has {n:g} steps at {temperature} K"
                )
            weighted += n * temperature
            steps += n
    return weighted / steps if steps > 0 else None


# --------------------------------------------------------------------------------------------
# MSD of a trajectory
# --------------------------------------------------------------------------------------------


def trajectory_msd(
    frames: Iterable[Frame],
    groups: Mapping[str, Sequence[int]],
    *,
    max_lag: int | None = None,
    origin_interval: int = 1,
    masses: ArrayLike | None = None,
    drift_atoms: Sequence[int] | None = None,
    progress: bool = False,
) -> MSDResult:
    """Drift-corrected multiple-origin MSD of a stream of frames.

    Wrapped frames (``Frame.unwrapped`` False) are unwrapped with
    :class:`~interfacial.analysis.diffusion.Unwrapper` (minimum image between consecutive
    frames: store frames often enough that no atom moves half a cell between them); unwrapped
    ones are used as they are. Memory is that of :class:`StreamingMSD`:
    ``(max_lag // origin_interval + 1) * n_atoms * 3`` floats, independent of the run length.

    Parameters
    ----------
    frames : iterable of Frame
        For example :func:`iter_frames`. Atom i is position i of every frame.
    groups : Mapping[str, Sequence[int]]
        Group name -> atom indices (0-based frame positions), see :func:`default_groups`.
    max_lag : int, optional
        Longest lag (frames). Default: half the frames: ``len(frames)`` for a sequence, a cheap
        first pass over the files (:meth:`FrameReader.count`, no coordinates parsed) for
        :func:`iter_frames`; any other iterator needs it given, e.g.
        ``count_frames(path) // 2``.
    origin_interval : int
        Frames between time origins; cost per frame grows as ``max_lag / origin_interval``.
    masses : array_like, shape (n_atoms,), optional
        Masses for the centre of mass whose drift is removed; equal weights when omitted.
    drift_atoms : Sequence[int], optional
        Atoms defining the drift; all atoms when omitted.
    progress : bool
        Show a rich progress bar on stderr.

    Returns
    -------
    MSDResult
        MSD (A^2) per group and component against lag time (ps).

    Raises
    ------
    InterfacialError
        An empty group or an index outside the frames, no ``max_lag`` for an iterator, fewer
        than 2 frames, frames whose atoms, symbols or wrapping change, non-increasing time.

    """
    for name, indices in groups.items():
        if len(indices) == 0:
            raise InterfacialError(
                f"group {name!r} has no atoms; check its definition (element, region, ids)"
            )
    if not groups:
        raise InterfacialError("no atom groups given for the MSD")
    n_known: int | None = None
    if isinstance(frames, Sequence):
        n_known = len(frames)
    elif isinstance(frames, FrameReader) and (max_lag is None or progress):
        n_known = frames.count()  # cheap first pass over the files
    if max_lag is None:
        if n_known is None:
            raise InterfacialError(
                "max_lag is needed when frames come from a plain iterator (length unknown); "
                "pass max_lag in frames, e.g. count_frames(path) // 2, or iter_frames(path)"
            )
        if n_known < 2:
            raise InterfacialError(f"{n_known} frame(s); an MSD needs at least 2")
        max_lag = n_known // 2
    if max_lag < 1 or origin_interval < 1:
        raise InterfacialError(
            f"max_lag ({max_lag}) and origin_interval ({origin_interval}) must be >= 1 frame"
        )
    try:
        acc = StreamingMSD(
            groups,
            max_lag=max_lag,
            origin_interval=origin_interval,
            masses=masses,
            drift_atoms=drift_atoms,
        )
    except ValueError as exc:
        raise InterfacialError(f"MSD set-up: {exc}") from exc

    unwrap = Unwrapper()
    first: Frame | None = None
    bar: Any = None
    task: Any = None
    if progress:
        from rich.console import Console
        from rich.progress import Progress

        bar = Progress(console=Console(stderr=True), transient=True)
        bar.start()
        task = bar.add_task("MSD", total=n_known)
    try:
        for k, frame in enumerate(frames):
            where = f"frame {k}"
            if first is None:
                first = frame
                n_atoms = frame.positions.shape[0]
                for name, indices in groups.items():
                    top = max(int(i) for i in indices)
                    if top >= n_atoms or min(int(i) for i in indices) < 0:
                        raise InterfacialError(
                            f"group {name!r} refers to atom index {top} but the frames have "
                            f"{n_atoms} atoms (indices are 0-based frame positions)"
                        )
            else:
                if frame.positions.shape != first.positions.shape:
                    raise InterfacialError(
                        f"{where}: {frame.positions.shape[0]} atoms, first frame "
                        f"{first.positions.shape[0]}"
                    )
                if frame.symbols != first.symbols:
                    raise InterfacialError(f"{where}: symbols differ from the first frame's")
                if frame.unwrapped != first.unwrapped:
                    raise InterfacialError(
                        f"{where}: coordinates switch between wrapped and unwrapped; write the "
                        "same coordinate columns in every segment"
                    )
            if frame.unwrapped:
                positions = frame.positions
            else:
                frac = np.linalg.solve(frame.cell.T, frame.positions.T).T
                try:
                    positions = unwrap(frac, frame.cell)
                except ValueError as exc:
                    raise InterfacialError(f"{where}: {exc}") from exc
            try:
                acc.add_frame(positions, frame.time)
            except ValueError as exc:
                raise InterfacialError(f"{where}: {exc}") from exc
            if bar is not None:
                bar.advance(task)
    finally:
        if bar is not None:
            bar.stop()
    if acc.n_frames < 2:
        raise InterfacialError(f"{acc.n_frames} frame(s); an MSD needs at least 2")
    return acc.result()


# --------------------------------------------------------------------------------------------
# Atom groups
# --------------------------------------------------------------------------------------------


def default_groups(
    symbols: Sequence[str],
    regions: Sequence[str] | None = None,
    mobile: str = "Li",
) -> dict[str, list[int]]:
    """Default MSD groups: one per element, and the mobile ions of each region.

    Parameters
    ----------
    symbols : sequence of str
        Element of each atom, in frame order (LAMMPS: sorted ids; a data file written from an
        interface model keeps the model's site order).
    regions : sequence of str, optional
        Region of each atom, the site property ``region`` of our interface models ("metal" or
        "compound").
    mobile : str
        The diffusing element whose atoms are split by region.

    Returns
    -------
    dict[str, list[int]]
        ``{"Li": [...], "S": [...], ..., "Li metal": [...], "Li compound": [...]}``: every
        element in order of first appearance, then ``f"{mobile} {region}"`` for each region
        holding mobile atoms. Indices are 0-based frame positions.

    Raises
    ------
    InterfacialError
        Regions of the wrong length, or regions given while ``mobile`` is absent.

    """
    syms = [str(s) for s in symbols]
    groups: dict[str, list[int]] = {}
    for i, s in enumerate(syms):
        groups.setdefault(s, []).append(i)
    if regions is None:
        return groups
    regs = [str(r) for r in regions]
    if len(regs) != len(syms):
        raise InterfacialError(
            f"{len(regs)} region labels for {len(syms)} atoms; give one per atom in frame order"
        )
    if mobile not in groups:
        raise InterfacialError(
            f"mobile element {mobile!r} is not in the trajectory (elements {sorted(groups)}); "
            "pass the diffusing element"
        )
    for i in groups[mobile]:
        groups.setdefault(f"{mobile} {regs[i]}", []).append(i)
    return groups


_RANGE = re.compile(r"^(\d+)(?:-(\d+))?$")


def parse_group(
    spec: str,
    symbols: Sequence[str],
    regions: Sequence[str] | None = None,
    *,
    ids: Sequence[int] | None = None,
) -> tuple[str, list[int]]:
    """Parse a command-line atom group ``NAME=SELECTION``.

    Grammar::

        spec      := NAME "=" term ("&" term)*        terms are intersected
        term      := "region:" REGION                 atoms whose region is REGION
                   | item ("," item)*                 union of the items
        item      := ELEMENT                          e.g. Li
                   | ID | ID "-" ID                   1-based atom ids, ranges inclusive

    Examples: ``Li=Li``, ``LiS=Li,S``, ``Li_metal=region:metal&Li``, ``tracers=1-10,15``.

    Parameters
    ----------
    spec : str
        The group specification.
    symbols : sequence of str
        Element of each atom in frame order.
    regions : sequence of str, optional
        Region of each atom (needed for ``region:`` terms).
    ids : sequence of int, optional
        Atom id of each frame position (``Frame.ids``); default 1, 2, ..., n_atoms.

    Returns
    -------
    tuple[str, list[int]]
        Group name and sorted 0-based frame positions.

    Raises
    ------
    InterfacialError
        Bad syntax, an unknown element, region or id, or an empty group.

    """
    from pymatgen.core.periodic_table import Element

    name, sep, selection = spec.partition("=")
    name = name.strip()
    selection = selection.strip()
    if not sep or not name or not selection:
        raise InterfacialError(
            f"atom group {spec!r}: write NAME=SELECTION, e.g. 'Li=Li', 'Li_metal=region:metal&Li' "
            "or 'tracers=1-10,15'"
        )
    syms = [str(s) for s in symbols]
    n = len(syms)
    atom_ids = list(range(1, n + 1)) if ids is None else [int(i) for i in ids]
    if len(atom_ids) != n:
        raise InterfacialError(f"{len(atom_ids)} atom ids for {n} atoms")
    position_of = {i: k for k, i in enumerate(atom_ids)}
    present = sorted(set(syms))

    selected = set(range(n))
    for term in (t.strip() for t in selection.split("&")):
        if not term:
            raise InterfacialError(f"atom group {spec!r}: empty term around '&'")
        if term.lower().startswith("region:"):
            region = term.split(":", 1)[1].strip()
            if regions is None:
                raise InterfacialError(
                    f"atom group {spec!r}: 'region:' needs the region of each atom (an interface "
                    "model with the site property 'region')"
                )
            regs = [str(r) for r in regions]
            if region not in regs:
                raise InterfacialError(
                    f"atom group {spec!r}: unknown region {region!r}; have {sorted(set(regs))}"
                )
            selected &= {k for k, r in enumerate(regs) if r == region}
            continue
        members: set[int] = set()
        for item in (i.strip() for i in term.split(",")):
            match = _RANGE.match(item)
            if match:
                lo = int(match.group(1))
                hi = int(match.group(2) or lo)
                if hi < lo:
                    raise InterfacialError(f"atom group {spec!r}: reversed id range {item!r}")
                missing = [i for i in range(lo, hi + 1) if i not in position_of]
                if missing:
                    raise InterfacialError(
                        f"atom group {spec!r}: atom id {missing[0]} does not exist (ids run "
                        f"{min(atom_ids)}..{max(atom_ids)}, 1-based as in LAMMPS)"
                    )
                members |= {position_of[i] for i in range(lo, hi + 1)}
                continue
            if not Element.is_valid_symbol(item):
                raise InterfacialError(
                    f"atom group {spec!r}: {item!r} is neither an element, an id range nor "
                    "region:NAME"
                )
            if item not in present:
                raise InterfacialError(
                    f"atom group {spec!r}: no {item} atoms in the trajectory (elements {present})"
                )
            members |= {k for k, s in enumerate(syms) if s == item}
        selected &= members
    if not selected:
        raise InterfacialError(f"atom group {spec!r} selects no atoms")
    return name, sorted(selected)


# --------------------------------------------------------------------------------------------
# Fit window
# --------------------------------------------------------------------------------------------


def check_fit_window(
    fit_window: tuple[float, float], lag_times: ArrayLike, min_points: int = MIN_FIT_POINTS
) -> tuple[float, float]:
    """Return ``fit_window`` as floats if usable for :meth:`MSDResult.diffusivity`.

    Raises
    ------
    InterfacialError
        The window is reversed or empty, starts below 0, ends after the longest MSD lag
        (longer than the run or than max_lag), or holds fewer than ``min_points`` MSD points.

    """
    problem = fit_window_problem(fit_window, lag_times, min_points)
    if problem is not None:
        raise InterfacialError(problem)
    return (float(fit_window[0]), float(fit_window[1]))
