"""Trajectories ASE reads: ``.traj``, extended XYZ and any ``ase:FORMAT``, via :func:`ase.io.iread`.

``kind`` is "traj", "extxyz" or "ase:<ASE format name>" (e.g. "ase:vasp-out",
"ase:lammps-dump-text"; ``ase info --formats`` lists them). Frames are streamed by
``ase.io.iread``. A compressed file (``.gz``, ``.bz2``, ``.xz``) is handed to ASE as a
decompressing stream when the format reads from a stream, else (binary ``.traj``, formats that
need a file name) as a decompressed temporary copy that is removed however reading ends.

Frames count from 0 across files. For ``.traj`` and extended XYZ a frame's time is
``atoms.info["time"]`` (ps) when every frame carries it (see
:mod:`interfacial.trajectory.frames`); other ASE formats record no time ASE exposes in known
units, so their time between stored frames is the time step given.
"""

from __future__ import annotations

from collections.abc import Generator, Iterator
from itertools import islice
from pathlib import Path
from typing import Any

import numpy as np

from interfacial.errors import InterfacialError
from interfacial.trajectory.compression import (
    archive_errors,
    compression_of,
    decompressed_copy,
    open_text,
)
from interfacial.trajectory.frames import RawFrame

__all__ = [
    "ase_format_of",
    "check_ase_format",
    "count_ase",
    "count_traj",
    "count_xyz",
    "info_frame_interval_fs",
    "iter_atoms",
    "read_ase",
]

#: Kinds whose ``atoms.info["time"]`` is taken as the frame time in ps.
_INFO_TIME_KINDS = ("traj", "extxyz")


def ase_format_of(kind: str) -> str:
    """ASE's format name of a kind: "traj", "extxyz", or FORMAT of "ase:FORMAT"."""
    return kind.removeprefix("ase:")


def check_ase_format(name: str, where: str) -> str:
    """``name`` if ASE has a reader for it (many images or one), else InterfacialError."""
    from ase.io.formats import ioformats

    fmt = ioformats.get(name)
    if fmt is None or not fmt.can_read:
        raise InterfacialError(
            f"{where}: ASE has no reader named {name!r}; give ase:FORMAT with a format of "
            "`ase info --formats` (e.g. ase:vasp-out, ase:lammps-dump-text)"
        )
    return name


def iter_atoms(path: Path, kind: str) -> Generator[Any, None, None]:
    """Yield the ``ase.Atoms`` of a file, decompressing it when its name says so.

    Raises
    ------
    InterfacialError
        A damaged archive, or any error of ASE's reader (named with the frame).

    """
    import ase.io
    from ase.io.formats import ioformats

    ase_format = ase_format_of(kind)
    fmt = ioformats[ase_format]
    frame_no = 0
    try:
        with archive_errors(path):
            if compression_of(path) is not None and fmt.acceptsfd and not fmt.isbinary:
                with open_text(path) as fh:
                    for atoms in ase.io.iread(fh, index=":", format=ase_format):
                        frame_no += 1
                        yield atoms
            else:
                with decompressed_copy(path) as readable:
                    for atoms in ase.io.iread(str(readable), index=":", format=ase_format):
                        frame_no += 1
                        yield atoms
    except InterfacialError:
        raise
    except Exception as exc:  # ASE raises many types for a malformed file
        raise InterfacialError(
            f"{path}, frame {frame_no + 1}: ASE cannot read it as {ase_format} "
            f"({type(exc).__name__}: {exc}); check the file or give its format (--format)"
        ) from exc


def _info_time_ps(atoms: Any, kind: str, where: str) -> float | None:
    if kind not in _INFO_TIME_KINDS or "time" not in atoms.info:
        return None
    try:
        return float(atoms.info["time"])
    except (TypeError, ValueError):
        raise InterfacialError(f"{where}: atoms.info['time'] is not a number") from None


def info_frame_interval_fs(path: Path, kind: str) -> float | None:
    """Time between the first two frames from ``atoms.info["time"]`` (fs), or None.

    None unless ``kind`` keeps times in ps (.traj, extended XYZ) and both frames carry one.
    """
    if kind not in _INFO_TIME_KINDS:
        return None
    frames = iter_atoms(path, kind)
    try:
        times = [
            _info_time_ps(atoms, kind, f"{path}, frame {k + 1}")
            for k, atoms in enumerate(islice(frames, 2))
        ]
    finally:
        frames.close()  # removes a decompressed copy now, not at garbage collection
    if len(times) < 2 or times[0] is None or times[1] is None:
        return None
    return (times[1] - times[0]) * 1000.0


def read_ase(path: Path, kind: str, use_info_time: bool) -> Iterator[tuple[int, RawFrame]]:
    """Yield (frame number, frame) of a file ASE reads (``kind`` as in :func:`iter_atoms`).

    With ``use_info_time`` every frame must carry ``atoms.info["time"]`` (ps), which is then
    the frame's time.
    """
    for frame_no, atoms in enumerate(iter_atoms(path, kind), start=1):
        where = f"{path}, frame {frame_no}"
        time: float | None = None
        if use_info_time:
            time = _info_time_ps(atoms, kind, where)
            if time is None:
                raise InterfacialError(
                    f"{where}: no atoms.info['time'] (ps) and no time_step_fs; pass "
                    "time_step_fs (--time-step on the command line), the time between stored "
                    "frames (fs)"
                )
        ids = None
        if "id" in atoms.arrays:
            ids = np.asarray(atoms.arrays["id"], dtype=np.int64)
        yield (
            frame_no,
            RawFrame(
                np.array(atoms.positions, dtype=float),
                np.array(atoms.cell.array, dtype=float),
                time,
                tuple(atoms.get_chemical_symbols()),
                ids,
                False,
            ),
        )


def count_ase(path: Path, kind: str) -> int:
    """Number of frames of a file ASE reads: .traj from its index, others by reading them."""
    if kind == "traj":
        return count_traj(path)
    if kind == "extxyz":
        return count_xyz(path)
    return sum(1 for _ in iter_atoms(path, kind))


def count_traj(path: Path) -> int:
    """Number of frames of an ASE ``.traj`` file (from its index, no coordinates read)."""
    from ase.io.trajectory import Trajectory

    try:
        with decompressed_copy(path) as readable, Trajectory(str(readable)) as traj:
            return len(traj)
    except InterfacialError:
        raise
    except Exception as exc:  # ASE raises many types for a malformed file
        raise InterfacialError(f"{path}: ASE cannot read it as traj: {exc}") from exc


def count_xyz(path: Path) -> int:
    """Number of frames of an extended XYZ file (its atom-count lines), coordinates unparsed."""
    n = 0
    with archive_errors(path), open_text(path) as fh:
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
