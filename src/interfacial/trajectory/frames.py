"""Frames of a trajectory on disk: the Frame type, format guessing, checks and the reader.

:func:`iter_frames` streams one :class:`Frame` at a time from one or several files (segments of
one run), whatever the format (:mod:`~interfacial.trajectory.lammps`,
:mod:`~interfacial.trajectory.lammps_binary`, :mod:`~interfacial.trajectory.xdatcar`,
:mod:`~interfacial.trajectory.vasprun`, :mod:`~interfacial.trajectory.ase_files`), compressed or
not (:mod:`~interfacial.trajectory.compression`: ``.gz``, ``.bz2``, ``.xz``), gives every frame
its time and checks it (atom count, symbols, ids, cell, time); bad input raises
:class:`~interfacial.errors.InterfacialError` naming the file, the frame and what to do.

Units: positions and cells in A, times in ps, MD time steps in fs.

Time of a frame, by format:

- LAMMPS dump (text or .bin): ``timestep * time_step_fs / 1000``; ``time_step_fs`` is the MD step
  (the dump stores the step number, not the step length), so it is required.
- XDATCAR: ``frame_index * time_step_fs / 1000``; here ``time_step_fs`` is the time between
  STORED frames (POTIM times the storage stride, NBLOCK), required.
- vasprun.xml: ``frame_index * POTIM * stride / 1000`` with POTIM and the stride read from the
  file (:mod:`~interfacial.trajectory.vasprun`); ``time_step_fs`` may be omitted and, when
  given, must equal ``POTIM * stride``.
- ASE ``.traj`` / extended XYZ: ``atoms.info["time"]`` in ps when the frames carry it (a
  ``time_step_fs`` that contradicts their spacing is refused); otherwise
  ``frame_index * time_step_fs / 1000`` (time between stored frames), required.
- Any other ASE format (``ase:FORMAT``): ``frame_index * time_step_fs / 1000``, required.

``frame_index`` counts frames across all files, from 0. Segments of a run whose frames carry
times (LAMMPS, ASE with times) drop a first frame at the previous segment's last time; formats
timed by index drop a first frame identical to the previous segment's last one (a restart that
wrote its starting configuration again).
"""

from __future__ import annotations

import math
import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from interfacial.errors import InterfacialError

__all__ = [
    "FORMATS",
    "Frame",
    "FrameReader",
    "RawFrame",
    "count_frames",
    "guess_format",
    "iter_frames",
    "resolve_format",
    "trajectory_paths",
]

#: Formats :func:`iter_frames` reads.
FORMATS = ("lammps", "lammps-binary", "traj", "extxyz", "xdatcar", "vasprun", "ase:FORMAT")

PathLike = str | os.PathLike[str]
FloatArray = NDArray[np.float64]

# Smallest |det(cell)| / (|a| |b| |c|) accepted: a cell flatter than this is degenerate.
_MIN_CELL_SHAPE = 1e-6
# Two times closer than this (ps) are the same time (boundary frame of dump segments).
_TIME_TOL = 1e-9
# Two configurations closer than this (A, every atom, minimum image) are the same frame.
_SAME_FRAME_A = 1e-6
# Relative tolerance between a given time step and the one a file records.
_STEP_RTOL = 1e-6


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
class RawFrame:
    """A frame as a format reader yields it: time None means 'from the frame index'."""

    positions: FloatArray
    cell: FloatArray
    time: float | None
    symbols: tuple[str, ...]
    ids: NDArray[np.int64] | None
    unwrapped: bool


# --------------------------------------------------------------------------------------------
# Format detection
# --------------------------------------------------------------------------------------------


def guess_format(path: PathLike) -> str:  # noqa: PLR0911 (one return per pattern)
    """Trajectory format from a file name, under a ``.gz``, ``.bz2`` or ``.xz`` suffix.

    ``*.dump``, ``dump.*``, ``*.lammpstrj`` -> "lammps"; ``*.bin`` -> "lammps-binary";
    ``*.traj`` -> "traj"; ``XDATCAR*`` -> "xdatcar"; ``vasprun*.xml`` (or an ``.xml`` whose
    root is VASP's ``<modeling>``) -> "vasprun"; ``*.extxyz``, ``*.xyz`` -> "extxyz"; any other
    name of an existing file -> "ase:FORMAT" when ASE recognises its content
    (:func:`ase.io.formats.filetype` without guessing from the extension).

    Raises
    ------
    InterfacialError
        Neither the name nor ASE tells the format.

    """
    from interfacial.trajectory.compression import uncompressed_name

    name = uncompressed_name(path)
    lower = name.lower()
    if lower.startswith("vasprun") and lower.endswith(".xml"):
        return "vasprun"
    if lower.endswith((".dump", ".lammpstrj")) or lower.startswith("dump.") or lower == "dump":
        return "lammps"
    if lower.endswith(".bin"):
        return "lammps-binary"
    if lower.endswith(".traj"):
        return "traj"
    if name.upper().startswith("XDATCAR"):
        return "xdatcar"
    if lower.endswith((".extxyz", ".xyz")):
        return "extxyz"
    if lower.endswith(".xml") and _looks_like_vasprun(Path(path)):
        return "vasprun"
    by_content = _ase_filetype(Path(path))
    if by_content is not None:
        return by_content
    raise InterfacialError(
        f"{path}: cannot tell the trajectory format from the name; pass fmt= one of {FORMATS} "
        "(or --format on the command line)"
    )


# ASE's names of the formats read here by our own readers.
_OWN_ASE_FORMATS = {
    "traj": "traj",
    "extxyz": "extxyz",
    "vasp-xdatcar": "xdatcar",
    "vasp-xml": "vasprun",
    "lammps-dump-text": "lammps",
}


def _looks_like_vasprun(path: Path) -> bool:
    """Whether an .xml file starts like VASP's vasprun.xml (its <modeling> root)."""
    from interfacial.trajectory.compression import open_binary

    try:
        with open_binary(path) as fh:
            return b"<modeling>" in fh.read(4096)
    except (OSError, EOFError, ValueError):
        return False


def _ase_filetype(path: Path) -> str | None:
    """Our kind for a file whose content ASE recognises, or None."""
    from ase.io.formats import UnknownFileTypeError, filetype, ioformats

    try:
        name = filetype(str(path), read=True, guess=False)
    except (UnknownFileTypeError, OSError, ValueError, EOFError):
        return None
    if name in _OWN_ASE_FORMATS:
        return _OWN_ASE_FORMATS[name]
    fmt = ioformats.get(name)
    return f"ase:{name}" if fmt is not None and fmt.can_read else None


def resolve_format(path: Path, fmt: str | None) -> str:
    """The format of ``path``: ``fmt`` (or one of its aliases) when given, else guessed.

    ``ase:FORMAT`` reads through ASE with that ASE format name (checked to exist).
    """
    if fmt is None:
        return guess_format(path)
    if fmt.lower().startswith("ase:"):
        from interfacial.trajectory.ase_files import check_ase_format

        name = check_ase_format(fmt[len("ase:") :].strip(), f"{path}: --format {fmt}")
        return _OWN_ASE_FORMATS.get(name, f"ase:{name}")
    kind = fmt.lower().replace("-", "").replace("_", "")
    aliases = {
        "lammps": "lammps",
        "lammpsdump": "lammps",
        "lammpsdumptext": "lammps",
        "dump": "lammps",
        "lammpstrj": "lammps",
        "lammpsbinary": "lammps-binary",
        "lammpsbin": "lammps-binary",
        "bin": "lammps-binary",
        "traj": "traj",
        "ase": "traj",
        "extxyz": "extxyz",
        "xyz": "extxyz",
        "xdatcar": "xdatcar",
        "vaspxdatcar": "xdatcar",
        "vasprun": "vasprun",
        "vasprunxml": "vasprun",
        "vaspxml": "vasprun",
    }
    if kind not in aliases:
        raise InterfacialError(f"{path}: unknown trajectory format {fmt!r}; use one of {FORMATS}")
    return aliases[kind]


def trajectory_paths(path: PathLike | Sequence[PathLike]) -> list[Path]:
    """One or several trajectory files as paths, each checked to exist."""
    paths = [Path(path)] if isinstance(path, str | os.PathLike) else [Path(p) for p in path]
    if not paths:
        raise InterfacialError("no trajectory file given")
    for p in paths:
        if p.is_dir():
            raise InterfacialError(f"{p} is a directory; give a trajectory file")
        if not p.is_file():
            raise InterfacialError(f"{p}: trajectory file not found")
    return paths


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
        "lammps", "lammps-binary", "traj", "extxyz", "xdatcar", "vasprun" or "ase:FORMAT" (any
        format ASE reads); guessed from each file name when omitted (see :func:`guess_format`).
        Files may be compressed (``.gz``, ``.bz2``, ``.xz``); all files of a run have one format.
    time_step_fs : float, optional
        For LAMMPS dumps, the MD time step (fs): time = timestep * time_step_fs / 1000 ps.
        For the other formats, the time between stored frames (fs): time = frame index *
        time_step_fs / 1000 ps. Required for LAMMPS, XDATCAR and ``ase:FORMAT``; read from
        vasprun.xml (POTIM * stride) and from ASE ``.traj`` / extended XYZ frames that carry
        ``atoms.info["time"]`` (ps), where a different given value is an error.
    species_order : sequence of str, optional
        Element of LAMMPS atom type 1, 2, ... (required when a dump has ``type`` but no
        ``element`` column); for VASP 4 XDATCARs without an element line, the elements in order.

    Returns
    -------
    FrameReader
        An iterator of :class:`Frame` (positions sorted by atom id for LAMMPS). LAMMPS frames
        are ``unwrapped`` when the dump has ``xu yu zu`` / ``xsu ysu zsu`` or image flags
        ``ix iy iz``; other formats are treated as possibly wrapped. Its ``count()`` counts the
        frames by a cheap scan, which :func:`~interfacial.diffusion.trajectory_msd` uses for its
        default ``max_lag``.

    Raises
    ------
    InterfacialError
        Missing file, unknown format, formats mixed in one run, a missing time step or one the
        file contradicts, missing species order, a damaged archive, a malformed or truncated
        frame (a vasprun.xml cut inside a step gives its complete steps and a
        :class:`~interfacial.trajectory.vasprun.TruncatedTrajectoryWarning` instead), a missing
        or degenerate cell, atom counts, symbols or ids that change, time that does not
        increase, type numbers outside ``species_order``, or fewer than 2 frames (raised when
        the files are exhausted). Missing files, unknown or mixed formats and a missing or
        contradicted time step are reported at the call, the rest while reading. The message
        names
        the file and the frame.

    """
    paths = trajectory_paths(path)
    if time_step_fs is not None and not (time_step_fs > 0 and math.isfinite(time_step_fs)):
        raise InterfacialError(
            f"the time step (time_step_fs, --time-step on the command line) must be a positive "
            f"number of fs, got {time_step_fs:g}"
        )
    kinds = [resolve_format(p, fmt) for p in paths]
    if len(set(kinds)) > 1:
        k = next(i for i, kind in enumerate(kinds) if kind != kinds[0])
        raise InterfacialError(
            f"{paths[k]} has the format {kinds[k]} but {paths[0]} has {kinds[0]}: the files "
            "of one run must have one format; analyse each run on its own"
        )
    recorded = recorded_frame_interval(paths, kinds[0])
    if recorded is not None:
        if time_step_fs is not None and not math.isclose(
            time_step_fs, recorded, rel_tol=_STEP_RTOL
        ):
            raise InterfacialError(
                f"{paths[0]}: the time step {time_step_fs:g} fs (time_step_fs, --time-step on "
                f"the command line) contradicts the file's {recorded:g} fs between stored "
                "frames; leave it out"
            )
        # vasprun: the index times the file's interval; ASE: the frames' own times.
        time_step_fs = recorded if kinds[0] == "vasprun" else None
    elif time_step_fs is None:
        what = (
            "MD time step"
            if kinds[0] in ("lammps", "lammps-binary")
            else "time between stored frames"
        )
        lacks = (
            "frames carry no atoms.info['time'] (ps)"
            if kinds[0] in ("traj", "extxyz")
            else "does not store its time step"
        )
        raise InterfacialError(
            f"{paths[0]}: a {kinds[0]} trajectory {lacks}; pass time_step_fs (--time-step on "
            f"the command line: the {what}, fs)"
        )
    return FrameReader(paths, kinds, fmt, time_step_fs, species_order)


def recorded_frame_interval(paths: Sequence[Path], kind: str) -> float | None:
    """Time between stored frames (fs) that the files themselves record, or None.

    vasprun.xml: ``POTIM * stride`` (every file of the run must agree); ASE ``.traj`` /
    extended XYZ: the spacing of the first two ``atoms.info["time"]`` of the first file; other
    formats record none (a LAMMPS dump of our own runs has its run record instead, see
    :func:`~interfacial.trajectory.run_record.recorded_md_plan`).
    """
    if kind == "vasprun":
        from interfacial.trajectory.vasprun import read_vasprun_header

        intervals = [read_vasprun_header(p).frame_interval_fs for p in paths]
        for p, dt in zip(paths[1:], intervals[1:], strict=True):
            if not math.isclose(dt, intervals[0], rel_tol=_STEP_RTOL):
                raise InterfacialError(
                    f"{p} stores a frame every {dt:g} fs but {paths[0]} every "
                    f"{intervals[0]:g} fs: segments of one run need the same POTIM and stride"
                )
        return intervals[0]
    if kind in ("traj", "extxyz"):
        from interfacial.trajectory.ase_files import info_frame_interval_fs

        return info_frame_interval_fs(paths[0], kind)
    return None


def _generate_frames(
    paths: list[Path],
    kinds: list[str],
    time_step_fs: float | None,
    species_order: Sequence[str] | None,
) -> Iterator[Frame]:
    # The format modules build RawFrames of this module: imported here, not at the top.
    from interfacial.trajectory.ase_files import read_ase
    from interfacial.trajectory.lammps import read_lammps
    from interfacial.trajectory.lammps_binary import read_lammps_binary
    from interfacial.trajectory.vasprun import read_vasprun
    from interfacial.trajectory.xdatcar import read_xdatcar

    check = _FrameChecker()
    index = 0  # frames yielded so far, across files
    last: Frame | None = None
    for file_no, (p, kind) in enumerate(zip(paths, kinds, strict=True)):
        raws: Iterator[tuple[int, RawFrame]]
        if kind == "lammps":
            raws = read_lammps(p, species_order)
        elif kind == "lammps-binary":
            raws = read_lammps_binary(
                p, species_order, first_file=file_no == 0, last_file=file_no == len(paths) - 1
            )
        elif kind == "xdatcar":
            raws = read_xdatcar(p, species_order)
        elif kind == "vasprun":
            raws = read_vasprun(p)
        else:
            raws = read_ase(p, kind, use_info_time=time_step_fs is None)
        first_of_file = file_no > 0
        for number, raw in _text_checked(raws, p, kind):
            lammps_like = kind in ("lammps", "lammps-binary")
            timed_by_index = not lammps_like and raw.time is None
            if lammps_like:
                assert time_step_fs is not None
                time = number * time_step_fs / 1000.0
            elif raw.time is not None:
                time = raw.time
            else:
                assert time_step_fs is not None
                time = index * time_step_fs / 1000.0
            if first_of_file and last is not None:
                first_of_file = False
                # The boundary frame, already read from the previous segment: the same time,
                # or (formats without times) the same configuration.
                if (
                    _same_configuration(raw, last)
                    if timed_by_index
                    else abs(time - last.time) <= _TIME_TOL
                ):
                    continue
            first_of_file = False
            frame = Frame(raw.positions, raw.cell, time, raw.symbols, raw.ids, raw.unwrapped)
            label = (
                f"step {number}"
                if kind in ("lammps", "lammps-binary", "vasprun")
                else f"frame {number}"
            )
            check(frame, f"{p}, {label}")
            index += 1
            last = frame
            yield frame
    if check.n_frames < 2:
        names = ", ".join(str(p) for p in paths)
        raise InterfacialError(
            f"{names}: {check.n_frames} frame(s); an MSD needs at least 2 (store frames more "
            "often or run longer)"
        )


def _same_configuration(raw: RawFrame, last: Frame) -> bool:
    """Whether ``raw`` repeats ``last``: same cell, every atom within _SAME_FRAME_A (A)."""
    if raw.positions.shape != last.positions.shape or raw.cell.shape != last.cell.shape:
        return False
    if not np.allclose(raw.cell, last.cell, rtol=0.0, atol=_SAME_FRAME_A):
        return False
    try:
        frac = (raw.positions - last.positions) @ np.linalg.inv(last.cell)
    except np.linalg.LinAlgError:
        return False
    frac -= np.round(frac)  # minimum image: a wrapped copy of the same configuration
    return bool(np.all(np.linalg.norm(frac @ last.cell, axis=1) <= _SAME_FRAME_A))


def _text_checked(
    raws: Iterator[tuple[int, RawFrame]], path: Path, kind: str
) -> Iterator[tuple[int, RawFrame]]:
    """``raws``, with a binary file or a damaged archive reported as an InterfacialError."""
    from interfacial.trajectory.compression import archive_errors

    try:
        with archive_errors(path):
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

    Use it to choose ``max_lag`` for :func:`~interfacial.diffusion.trajectory_msd` when the
    frames come from an iterator. Boundary frames of LAMMPS segments are counted once; for
    other formats every frame counts (a configuration a restart repeats, which
    :func:`iter_frames` drops, is counted twice: one frame per segment at most). ``ase:FORMAT``
    files other than .traj and extended XYZ are counted by reading them.

    Raises
    ------
    InterfacialError
        Missing file, unknown format or a damaged archive.

    """
    from interfacial.trajectory.ase_files import count_ase
    from interfacial.trajectory.compression import archive_errors
    from interfacial.trajectory.lammps import lammps_steps
    from interfacial.trajectory.lammps_binary import lammps_binary_steps
    from interfacial.trajectory.vasprun import count_vasprun
    from interfacial.trajectory.xdatcar import count_xdatcar

    paths = trajectory_paths(path)
    total = 0
    last_step: int | None = None
    for file_no, p in enumerate(paths):
        kind = resolve_format(p, fmt)
        try:
            with archive_errors(p):
                if kind in ("lammps", "lammps-binary"):
                    steps = (lammps_steps if kind == "lammps" else lammps_binary_steps)(p)
                    if file_no > 0 and steps and last_step is not None and steps[0] == last_step:
                        steps = steps[1:]
                    if steps:
                        last_step = steps[-1]
                    total += len(steps)
                elif kind == "xdatcar":
                    total += count_xdatcar(p)
                elif kind == "vasprun":
                    total += count_vasprun(p)
                else:
                    total += count_ase(p, kind)
        except UnicodeDecodeError:
            raise InterfacialError(
                f"{p}: not a text file, so not a {kind} trajectory; check the file or its format"
            ) from None
    return total
