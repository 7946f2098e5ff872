"""ASE trajectory files (``.traj``) and extended XYZ, read through :func:`ase.io.iread`.

Their frames count from 0 across files; a frame's time is ``atoms.info["time"]`` (ps) when no
time step is given (see :mod:`interfacial.trajectory.frames`).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np

from interfacial.errors import InterfacialError
from interfacial.trajectory.frames import RawFrame

__all__ = ["count_traj", "count_xyz", "read_ase"]


def read_ase(path: Path, kind: str, use_info_time: bool) -> Iterator[tuple[int, RawFrame]]:
    """Yield (frame number, frame) of a .traj (``kind`` "traj") or extended XYZ file.

    With ``use_info_time`` every frame must carry ``atoms.info["time"]`` (ps).
    """
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
                RawFrame(
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


def count_traj(path: Path) -> int:
    """Number of frames of an ASE ``.traj`` file (from its index, no coordinates read)."""
    from ase.io.trajectory import Trajectory

    try:
        with Trajectory(str(path)) as traj:
            return len(traj)
    except Exception as exc:  # ASE raises many types for a malformed file
        raise InterfacialError(f"{path}: ASE cannot read it as traj: {exc}") from exc


def count_xyz(path: Path) -> int:
    """Number of frames of an extended XYZ file (its atom-count lines), coordinates unparsed."""
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
