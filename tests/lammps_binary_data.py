"""Synthetic LAMMPS binary dumps, written after LAMMPS's own layout (dump_custom.cpp).

The layout, per frame (LAMMPS_SMALLBIG, little-endian), as LAMMPS's ``tools/binary2txt.cpp``
reads it: [int64 -len, magic, int32 endian, int32 revision], int64 step, int64 n_atoms, int32
triclinic, int32 boundary[6], 6 (+3 tilt) doubles, int32 n_fields, [int32 len, units, char
has_time, int32 len, columns], int32 n_chunks, n_chunks x (int32 n, n doubles). Real LAMMPS
files are tested against the reader elsewhere; these cover what LAMMPS cannot be made to write
on demand (old layout, bad magic, truncation at any byte).
"""

from __future__ import annotations

import struct
from collections.abc import Sequence

import numpy as np


def binary_frame(
    step: int,
    values: np.ndarray,
    columns: Sequence[str],
    box: Sequence[float],
    *,
    tilt: Sequence[float] | None = None,
    magic: bytes = b"DUMPCUSTOM",
    old_layout: bool = False,
    chunks: int = 1,
    units: str = "",
) -> bytes:
    """One frame: ``values`` (n_atoms, n_fields), box (xlo, xhi, ylo, yhi, zlo, zhi) bounds."""
    values = np.asarray(values, dtype="<f8")
    n_atoms, n_fields = values.shape
    out = b""
    if not old_layout:
        out += struct.pack("<q", -len(magic)) + magic + struct.pack("<ii", 1, 2)
    out += struct.pack("<qqi", step, n_atoms, 0 if tilt is None else 1)
    out += struct.pack("<6i", 0, 0, 0, 0, 0, 0)
    out += struct.pack("<6d", *box) + (b"" if tilt is None else struct.pack("<3d", *tilt))
    out += struct.pack("<i", n_fields)
    if not old_layout:
        text = " ".join(columns).encode()
        out += struct.pack("<i", len(units)) + units.encode() + b"\x00"
        out += struct.pack("<i", len(text)) + text
    out += struct.pack("<i", chunks)
    for part in np.array_split(values, chunks):
        out += struct.pack("<i", part.size) + part.tobytes()
    return out


def walk_binary(
    positions: np.ndarray, types: Sequence[int], box: Sequence[float], step_stride: int = 50
) -> bytes:
    """A binary dump ``id type xu yu zu`` of positions (n_frames, n_atoms, 3), steps k*stride."""
    n_atoms = positions.shape[1]
    ids = np.arange(1, n_atoms + 1, dtype=float)
    out = b""
    for k, frame in enumerate(positions):
        values = np.column_stack([ids, np.asarray(types, dtype=float), frame])
        out += binary_frame(k * step_stride, values, ("id", "type", "xu", "yu", "zu"), box)
    return out
