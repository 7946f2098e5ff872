"""Unwrapping and the streaming MSD: periodic fractional coordinates in, drift-corrected MSD out.

Holds the minimum-image unwrapping of consecutive frames (:func:`minimum_image_displacement`,
:class:`Unwrapper`), the multiple-time-origin MSD of bounded memory on a grid of lags
(:class:`StreamingMSD`, :func:`msd_lag_grid`, its result :class:`MSDResult`) and the MSD
components (:data:`COMPONENT_DIMENSION`). The D* fit of an MSD is
:mod:`interfacial.analysis.diffusivity`, the Arrhenius fit across temperatures
:mod:`interfacial.analysis.arrhenius`.

Everything here is a pure function of arrays fed frame by frame: no file I/O and no MD engine, so
the same code serves a LAMMPS dump reader, an ASE trajectory or a synthetic test.

Units: positions in A, times in ps, MSD in A^2.

Conventions: cells are 3x3 arrays whose ROWS are the lattice vectors (pymatgen and ASE), so
Cartesian = fractional @ cell. The interface normal is the Cartesian z axis: "x" and "y" are the
in-plane components, "z" the out-of-plane one.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from interfacial.analysis.diffusivity import (
    DiffusivityFit,
    squared_displacement_variance,
    tracer_diffusivity,
)

#: MSD components and their dimensionality d in MSD = 2 d D t.
COMPONENT_DIMENSION: dict[str, int] = {
    "x": 1,
    "y": 1,
    "z": 1,
    "in-plane": 2,
    "out-of-plane": 1,
    "total": 3,
}

# Which Cartesian axes each component sums over.
_COMPONENT_AXES: dict[str, tuple[int, ...]] = {
    "x": (0,),
    "y": (1,),
    "z": (2,),
    "in-plane": (0, 1),
    "out-of-plane": (2,),
    "total": (0, 1, 2),
}

FloatArray = NDArray[np.float64]


# --------------------------------------------------------------------------------------------
# Unwrapping
# --------------------------------------------------------------------------------------------


def _as_cell(cell: ArrayLike) -> FloatArray:
    arr = np.asarray(cell, dtype=float)
    if arr.shape != (3, 3):
        raise ValueError(f"cell must be a 3x3 array of row lattice vectors, got shape {arr.shape}")
    if abs(np.linalg.det(arr)) < 1e-12:
        raise ValueError("cell is singular (zero volume)")
    return arr


def _as_frac(frac: ArrayLike) -> FloatArray:
    arr = np.asarray(frac, dtype=float)
    if arr.ndim != 2 or arr.shape[1] != 3:
        raise ValueError(f"fractional coordinates must have shape (n_atoms, 3), got {arr.shape}")
    return arr


def minimum_image_displacement(
    frac_prev: ArrayLike,
    frac_now: ArrayLike,
    cell_prev: ArrayLike,
    cell_now: ArrayLike | None = None,
) -> FloatArray:
    """Cartesian displacement between two consecutive frames under the minimum-image convention.

    With wrapped Cartesian positions w = s @ h (s fractional, h the cell of that frame),

        Delta r = (w_now - w_prev) - round((w_now - w_prev) @ h_now^-1) @ h_now

    i.e. the image shift is taken in the CURRENT cell. For a fixed cell this is the usual
    fractional minimum image. For a fluctuating (NPT) cell it is the "toroidal" scheme of
    Bullerjahn, von Buelow & Hummer (J. Chem. Phys. 153, 024116, 2020), chosen because
    unwrapping fractional coordinates and rescaling by the current cell would add the box
    fluctuations to every particle's displacement and inflate D.

    Parameters
    ----------
    frac_prev, frac_now : array_like, shape (n_atoms, 3)
        Fractional coordinates of the previous and the current frame (wrapped or not).
    cell_prev : array_like, shape (3, 3)
        Cell of the previous frame, rows are lattice vectors (A).
    cell_now : array_like, shape (3, 3), optional
        Cell of the current frame (A); defaults to ``cell_prev``.

    Returns
    -------
    numpy.ndarray, shape (n_atoms, 3)
        Displacements (A). Correct only if no atom moved more than half the narrowest cell width
        between the two frames: store frames often enough.

    """
    s_prev = _as_frac(frac_prev)
    s_now = _as_frac(frac_now)
    if s_prev.shape != s_now.shape:
        raise ValueError(f"atom count changed between frames: {s_prev.shape} vs {s_now.shape}")
    h_prev = _as_cell(cell_prev)
    h_now = h_prev if cell_now is None else _as_cell(cell_now)
    delta = s_now @ h_now - s_prev @ h_prev
    delta_frac = delta @ np.linalg.inv(h_now)
    delta_frac -= np.round(delta_frac)
    return np.asarray(delta_frac @ h_now, dtype=float)


class Unwrapper:
    """Streaming unwrapper: fractional coordinates in, continuous Cartesian positions out.

    Keeps only the previous frame, so memory does not grow with the run. The first frame's
    Cartesian positions are the reference; each later frame adds the minimum-image displacement
    of :func:`minimum_image_displacement`.

    Examples
    --------
    >>> unwrap = Unwrapper()
    >>> for frac, cell in frames:  # doctest: +SKIP
    ...     positions = unwrap(frac, cell)

    """

    def __init__(self) -> None:
        self._frac: FloatArray | None = None
        self._cell: FloatArray | None = None
        self._positions: FloatArray | None = None

    def __call__(self, frac: ArrayLike, cell: ArrayLike) -> FloatArray:
        """Unwrapped Cartesian positions (A) of this frame, shape (n_atoms, 3)."""
        s = _as_frac(frac)
        h = _as_cell(cell)
        if self._positions is None or self._frac is None or self._cell is None:
            self._positions = s @ h
        else:
            if s.shape != self._frac.shape:
                raise ValueError(
                    f"atom count changed between frames: {self._frac.shape[0]} -> {s.shape[0]}"
                )
            self._positions = self._positions + minimum_image_displacement(
                self._frac, s, self._cell, h
            )
        self._frac = s.copy()
        self._cell = h.copy()
        return self._positions.copy()


# --------------------------------------------------------------------------------------------
# Streaming MSD
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class MSDResult:
    r"""Mean squared displacements accumulated by :class:`StreamingMSD`.

    Attributes
    ----------
    lag_times : numpy.ndarray, shape (n_lags,)
        Lag times (ps), the mean of t - t_origin over the origins that reached each lag, at
        the lags of ``lag_frames`` (not every lag: see :func:`msd_lag_grid`).
    msd : dict[str, dict[str, numpy.ndarray]]
        ``msd[group][component]``, MSD (A^2) per lag, drift-corrected. Components are those of
        :data:`COMPONENT_DIMENSION`; "in-plane" is <dx^2 + dy^2>, "total" <|dr|^2>.
    n_samples : dict[str, numpy.ndarray]
        ``n_samples[group]``, number of (origin, atom) pairs averaged at each lag.
    n_origins : numpy.ndarray
        Number of time origins that reached each lag.
    n_atoms : dict[str, int]
        Atoms per group.
    origin_spacing : float
        Time between consecutive origins (ps): origin_interval times the mean frame step.
    n_frames : int
        Frames fed.
    fourth_moment : dict[str, dict[str, numpy.ndarray]] or None
        ``fourth_moment[group][component]``, mean of :math:`|\Delta r_c|^4` (A^4) per lag over
        the moment subset of origins (see :class:`StreamingMSD`), drift-corrected like the MSD;
        0 where ``fourth_moment_samples`` is 0 (lags not sampled).
    fourth_moment_msd : dict[str, dict[str, numpy.ndarray]] or None
        Mean of :math:`|\Delta r_c|^2` (A^2) over the SAME samples as ``fourth_moment``, so that
        ratios such as the non-Gaussian parameter are consistent.
    fourth_moment_samples : dict[str, numpy.ndarray] or None
        (origin, atom) pairs behind ``fourth_moment`` at each lag (0: lag not sampled).
    lag_frames : numpy.ndarray or None
        The lags in frames: the grid lags reached, and the last lag of a run shorter than
        ``max_lag`` (None: every lag from 0, index k a lag of k frames).

    """

    lag_times: FloatArray
    msd: dict[str, dict[str, FloatArray]]
    n_samples: dict[str, NDArray[np.int64]]
    n_origins: NDArray[np.int64]
    n_atoms: dict[str, int]
    origin_spacing: float
    n_frames: int
    fourth_moment: dict[str, dict[str, FloatArray]] | None = None
    fourth_moment_msd: dict[str, dict[str, FloatArray]] | None = None
    fourth_moment_samples: dict[str, NDArray[np.int64]] | None = None
    lag_frames: NDArray[np.int64] | None = None

    def diffusivity(
        self, group: str, component: str, fit_window: tuple[float, float], **kwargs: Any
    ) -> DiffusivityFit:
        """Shortcut for :func:`tracer_diffusivity` on one group and component."""
        if group not in self.msd:
            raise KeyError(f"unknown group {group!r}; have {sorted(self.msd)}")
        if component not in COMPONENT_DIMENSION:
            raise KeyError(f"unknown component {component!r}; have {list(COMPONENT_DIMENSION)}")
        if self.fourth_moment is not None and "sq_variance" not in kwargs:
            assert self.fourth_moment_msd is not None and self.fourth_moment_samples is not None
            kwargs["sq_variance"] = squared_displacement_variance(
                self.fourth_moment_msd[group][component],
                self.fourth_moment[group][component],
                self.fourth_moment_samples[group],
            )
        return tracer_diffusivity(
            self.lag_times,
            self.msd[group][component],
            self.n_samples[group],
            COMPONENT_DIMENSION[component],
            fit_window,
            n_atoms=self.n_atoms[group],
            origin_spacing=self.origin_spacing,
            **kwargs,
        )


#: Every lag up to this many frames is on the MSD's lag grid (:func:`msd_lag_grid`): the
#: ballistic start and the maximum of the non-Gaussian parameter sit at short lags.
DENSE_LAGS = 64
#: About this many evenly spaced lags make up the rest of the grid, up to ``max_lag``.
SPACED_LAGS = 400
#: Budget of the fourth-moment subset: live moment origins times grid lags (24 x 256). Each
#: (origin, lag) pair costs a Gram product per group, as much as the MSD of ~2 origins.
MOMENT_PAIRS = 24 * 256


def msd_lag_grid(
    max_lag: int, dense: int = DENSE_LAGS, spaced: int = SPACED_LAGS
) -> NDArray[np.int64]:
    """The lags (frames) at which :class:`StreamingMSD` computes the MSD.

    Every lag ``0..dense``, then the multiples of ``s = ceil(max_lag / spaced)``, and
    ``max_lag`` itself: at most ``dense + spaced + 2`` lags whatever the run length (every lag
    when ``max_lag <= spaced``). Why a grid: the stored curves and the fits never use more (the
    GLS thins its window to 64 points, neighbouring lags are almost perfectly correlated), and
    an origin then costs work only on the frames where its lag is on the grid.

    Parameters
    ----------
    max_lag : int
        Longest lag (frames), >= 1.
    dense : int
        Lags kept one by one at the start (frames).
    spaced : int
        About how many evenly spaced lags cover ``0..max_lag``.

    Returns
    -------
    numpy.ndarray of int64
        Sorted distinct lags, starting at 0 and ending at ``max_lag``.

    """
    if max_lag < 1:
        raise ValueError(f"max_lag must be >= 1 frame, got {max_lag}")
    stride = max(1, -(-int(max_lag) // max(1, int(spaced))))
    head = np.arange(min(max(int(dense), 0), max_lag) + 1)
    spaced_lags = np.append(np.arange(0, max_lag + 1, stride), max_lag)
    return np.union1d(head, spaced_lags).astype(np.int64)


class StreamingMSD:
    r"""Multiple-time-origin MSD on a grid of lags, with memory bounded independently of the run.

    A new time origin is stored every ``origin_interval`` frames and retired once it is
    ``max_lag`` frames old, so at most ``max_lag // origin_interval + 1`` origins (each an
    (n_group_atoms, 3) array, with a work array of the same size) are ever held, plus
    accumulators of the size of the lag grid per group. The MSD is computed at the lags of
    :func:`msd_lag_grid` only (every lag up to ``dense_lags`` frames, then about
    ``spaced_lags`` evenly spaced ones): each frame updates the live origins whose lag is on
    the grid,

    .. math::

        \mathrm{MSD}_g^{\alpha}(k) = \frac{1}{n_g(k)} \sum_{o} \sum_{i \in g}
            \left[\Delta r_{i,\alpha}(o, k) - \Delta R_{\alpha}(o, k)\right]^2

    with :math:`\Delta r_i(o, k) = r_i(o + k) - r_i(o)`, :math:`\Delta R` the same for the
    centre of mass of the drift atoms, and :math:`n_g(k)` the number of (origin, atom) pairs:
    a grid lag still averages over EVERY origin that reaches it, so its value, sample count
    and origin count are those of the full computation. Subtracting the centre-of-mass
    displacement removes thermostat/barostat drift of the whole cell; for N identical random
    walkers it also lowers the MSD by the exact factor (1 - 1/N), negligible for real cells but
    visible with a handful of atoms.

    Cost per frame is O(n_hits * n_group_atoms), n_hits the live origins whose lag is on the
    grid: about n_stored_origins * (grid size) / max_lag, i.e. ~10x less than every lag for
    ``max_lag`` = 5000 frames. The last lag a run reaches when it is shorter than ``max_lag``
    (only the first origin reaches it) is kept too, off the grid if need be.

    Fourth moments. For the data-driven MSD covariance and the non-Gaussian parameter
    (:mod:`interfacial.analysis.regime`) the accumulator also keeps, per group, component c and
    grid lag, the mean of :math:`|\Delta r_c|^4` and, on the same samples, of
    :math:`|\Delta r_c|^2`, over a subset of origins only: those whose frame index is a
    multiple of ``moment_origin_stride`` (at most ``moment_origins`` of them live). Per origin
    the per-atom Gram matrix :math:`G_{ab} = \sum_i s_{ia} s_{ib}` of the squared axis
    displacements :math:`s_{ia} = \Delta r_{ia}^2` gives every component at once,
    :math:`\sum_i |\Delta r_{i,c}|^4 = \sum_{a, b \in c} G_{ab}`.

    Parameters
    ----------
    groups : Mapping[str, Sequence[int]]
        Group name -> atom indices, e.g. ``{"Li metal": [...], "Li compound": [...],
        "Li": [...]}``. Groups may overlap.
    max_lag : int
        Longest lag kept, in frames.
    origin_interval : int
        Frames between consecutive time origins (1 = every frame).
    masses : array_like, shape (n_atoms,), optional
        Atomic masses for the centre of mass; equal weights if omitted.
    drift_atoms : Sequence[int], optional
        Atoms whose centre of mass defines the drift; all atoms if omitted.
    moment_origins : int, optional
        Most origins of the fourth-moment subset live at once (sets ``moment_origin_stride``);
        default 24, fewer on a grid of more than 256 lags so that the subset costs no more
        than :data:`MOMENT_PAIRS` (origin, lag) products per ``max_lag`` frames.
    dense_lags, spaced_lags : int
        The lag grid, see :func:`msd_lag_grid`.

    """

    def __init__(
        self,
        groups: Mapping[str, Sequence[int]],
        max_lag: int,
        origin_interval: int = 1,
        masses: ArrayLike | None = None,
        drift_atoms: Sequence[int] | None = None,
        moment_origins: int | None = None,
        dense_lags: int = DENSE_LAGS,
        spaced_lags: int = SPACED_LAGS,
    ) -> None:
        if not groups:
            raise ValueError("at least one group of atoms is required")
        if max_lag < 1:
            raise ValueError(f"max_lag must be >= 1 frame, got {max_lag}")
        if origin_interval < 1:
            raise ValueError(f"origin_interval must be >= 1 frame, got {origin_interval}")
        self._groups: dict[str, NDArray[np.intp]] = {}
        for name, indices in groups.items():
            idx = np.asarray(indices, dtype=np.intp).ravel()
            if idx.size == 0:
                raise ValueError(f"group {name!r} has no atoms")
            if np.any(idx < 0):
                raise ValueError(f"group {name!r} has negative atom indices")
            if np.unique(idx).size != idx.size:
                raise ValueError(f"group {name!r} lists an atom twice")
            self._groups[name] = idx
        self.max_lag = int(max_lag)
        self.origin_interval = int(origin_interval)
        self._masses = None if masses is None else np.asarray(masses, dtype=float).ravel()
        self._drift_atoms = (
            None if drift_atoms is None else np.asarray(drift_atoms, dtype=np.intp).ravel()
        )
        self._n_slots = self.max_lag // self.origin_interval + 1
        self._n_atoms: int | None = None
        self._n_frames = 0
        self._t_first = 0.0
        self._t_last = 0.0
        # Ring buffer of origins, allocated on the first frame when n_atoms is known.
        self._origin_pos: FloatArray | None = None
        self._origin_frame = np.full(self._n_slots, -1, dtype=np.int64)
        self._origin_time = np.zeros(self._n_slots)
        #: The lags (frames) the MSD is computed at.
        self.lags = msd_lag_grid(self.max_lag, dense_lags, spaced_lags)
        # Lag (frames) -> its position on the grid, -1 off the grid: one lookup per origin.
        self._grid_pos = np.full(self.max_lag + 1, -1, dtype=np.int64)
        self._grid_pos[self.lags] = np.arange(self.lags.size)
        n_lags = self.lags.size
        self._sq_sum = {name: np.zeros((n_lags, 3)) for name in self._groups}
        self._count = np.zeros(n_lags, dtype=np.int64)
        self._lag_time_sum = np.zeros(n_lags)
        # The newest lag of the first origin when it is off the grid (a run shorter than
        # max_lag ends there): its sums, overwritten each frame.
        self._tail_sq: dict[str, FloatArray] = {name: np.zeros(3) for name in self._groups}
        self._tail_lag = -1
        self._tail_time = 0.0
        # Fourth-moment subset: origins every moment_origin_stride frames (a multiple of
        # origin_interval, so they are stored origins), at every grid lag.
        if moment_origins is None:
            moment_origins = min(24, -(-MOMENT_PAIRS // self.lags.size))
        base = self.origin_interval
        self.moment_origin_stride = base * max(
            1, -(-self.max_lag // (base * max(1, int(moment_origins) - 1)))
        )
        self._m2_sum = {name: np.zeros((n_lags, 3)) for name in self._groups}
        self._m4_sum = {name: np.zeros((n_lags, 3, 3)) for name in self._groups}
        self._m_count = np.zeros(n_lags, dtype=np.int64)
        self._weights: FloatArray | None = None
        self._used: NDArray[np.intp] | None = None
        self._local: dict[str, slice | NDArray[np.intp]] = {}
        self._work: FloatArray | None = None
        self._ones: dict[str, FloatArray] = {}
        self._n_filled = 0

    @property
    def n_stored_origins(self) -> int:
        """Number of time origins currently held in memory."""
        return int(np.count_nonzero(self._origin_frame >= 0))

    @property
    def n_frames(self) -> int:
        """Frames fed so far."""
        return self._n_frames

    def _setup(self, n_atoms: int) -> None:
        for name, idx in self._groups.items():
            if idx.max() >= n_atoms:
                raise ValueError(
                    f"group {name!r} refers to atom {idx.max()} but frames have {n_atoms} atoms"
                )
        drift = np.arange(n_atoms) if self._drift_atoms is None else self._drift_atoms
        if drift.size == 0 or drift.min() < 0 or drift.max() >= n_atoms:
            raise ValueError("drift_atoms must be non-empty valid atom indices")
        if self._masses is None:
            masses = np.ones(n_atoms)
        elif self._masses.size != n_atoms:
            raise ValueError(f"got {self._masses.size} masses for {n_atoms} atoms")
        else:
            masses = self._masses
        if np.any(masses[drift] <= 0):
            raise ValueError("masses of the drift atoms must be positive")
        weights = np.zeros(n_atoms)
        weights[drift] = masses[drift] / masses[drift].sum()
        self._weights = weights
        # Only atoms of some group need displacements: origins hold those atoms alone, in an
        # order that makes each group a contiguous block where it can (a slice of the work
        # array sums with no copy; a scattered group is gathered by index).
        used = _block_order(list(self._groups.values()))
        self._used = None if np.array_equal(used, np.arange(n_atoms)) else used
        where = np.empty(n_atoms, dtype=np.intp)
        where[used] = np.arange(used.size)
        self._local = {}
        for name, idx in self._groups.items():
            local = np.sort(where[idx])
            contiguous = local[-1] - local[0] + 1 == local.size
            self._local[name] = slice(int(local[0]), int(local[-1]) + 1) if contiguous else local
        # Origins are stored relative to their centre of mass (r_i - R), so one subtraction
        # gives the drift-corrected displacement (r_i - R)(t) - (r_i - R)(origin).
        self._origin_pos = np.zeros((self._n_slots, used.size, 3))
        # Work array reused every frame: no allocation (and page faults) per frame. On a
        # frame, at most one origin per grid lag is on the grid, plus the tail origin.
        n_work = min(self._n_slots, self.lags.size + 1)
        self._work = np.empty((n_work, used.size, 3))
        # Sums over a group's atoms as a matrix product with ones (BLAS, fast on (m, 3) rows).
        self._ones = {name: np.ones(idx.size) for name, idx in self._groups.items()}
        self._n_filled = 0
        self._n_atoms = n_atoms

    def add_frame(self, positions: ArrayLike, time: float) -> None:
        """Feed one frame of UNWRAPPED Cartesian positions (A) at ``time`` (ps)."""
        pos = np.asarray(positions, dtype=float)
        if pos.ndim != 2 or pos.shape[1] != 3:
            raise ValueError(f"positions must have shape (n_atoms, 3), got {pos.shape}")
        t = float(time)
        if self._n_atoms is None:
            self._setup(pos.shape[0])
            self._t_first = t
        elif pos.shape[0] != self._n_atoms:
            raise ValueError(
                f"inconsistent atom count: frame has {pos.shape[0]} atoms, expected {self._n_atoms}"
            )
        elif not t > self._t_last:
            raise ValueError(f"times must increase strictly: {t} ps after {self._t_last} ps")
        assert self._origin_pos is not None and self._weights is not None
        assert self._work is not None
        com = self._weights @ pos
        frame = self._n_frames

        # Retire origins that are too old, then store this frame as an origin if it is due;
        # the slot index cycles, so the buffer never grows.
        self._origin_frame[
            (self._origin_frame >= 0) & (frame - self._origin_frame > self.max_lag)
        ] = -1
        rel = (pos if self._used is None else pos[self._used]) - com
        if frame % self.origin_interval == 0:
            slot = (frame // self.origin_interval) % self._n_slots
            self._origin_pos[slot] = rel
            self._origin_frame[slot] = frame
            self._origin_time[slot] = t
            self._n_filled = max(self._n_filled, slot + 1)

        # Slots fill in order, so the filled ones are a prefix of the buffer. Only the live
        # origins whose lag is on the grid do work on this frame.
        n = self._n_filled
        live = np.flatnonzero(self._origin_frame[:n] >= 0)
        at = self._grid_pos[frame - self._origin_frame[live]]
        hit = at >= 0
        rows, at = live[hit], at[hit]
        n_hit = rows.size
        # The first origin (slot 0 until frame max_lag) at a lag off the grid: the tail.
        tail = frame <= self.max_lag and self._grid_pos[frame] < 0
        if tail:
            rows = np.append(rows, 0)
        if rows.size == 0:
            self._n_frames += 1
            self._t_last = t
            return
        work = self._work[: rows.size]
        # (origin - now)^2 equals (now - origin)^2 bit for bit; take + subtract in place
        # avoids a temporary copy of the selected origins (mode "clip": take with out= and the
        # default mode buffers, measured 4x slower; rows are valid slots anyway).
        np.take(self._origin_pos, rows, axis=0, out=work, mode="clip")
        np.subtract(work, rel[None, :, :], out=work)
        np.multiply(work, work, out=work)
        # Each origin has a distinct lag, so fancy-index accumulation does not collide.
        sub = np.flatnonzero(self._origin_frame[rows[:n_hit]] % self.moment_origin_stride == 0)
        sub_at = at[sub]
        for name, local in self._local.items():
            part = work[:, local, :]
            sums = np.matmul(self._ones[name], part)
            self._sq_sum[name][at] += sums[:n_hit]
            if tail:
                self._tail_sq[name] = sums[n_hit]
            if sub.size:
                self._m2_sum[name][sub_at] += sums[sub]
                self._m4_sum[name][sub_at] += _gram(part, sub)
        self._m_count[sub_at] += 1
        self._count[at] += 1
        self._lag_time_sum[at] += t - self._origin_time[rows[:n_hit]]
        if tail:
            self._tail_lag = frame
            self._tail_time = t - self._origin_time[0]

        self._n_frames += 1
        self._t_last = t

    def result(self) -> MSDResult:
        """MSD per group and component at the grid lags reached (see :class:`MSDResult`)."""
        if self._n_frames < 2:
            raise ValueError(f"need at least 2 frames for an MSD, got {self._n_frames}")
        # Grid lags are reached in order, so those with samples are a prefix of the grid.
        n_lags = int(np.count_nonzero(self._count > 0))
        tail = self._tail_lag > self.lags[n_lags - 1]

        def cut(values: NDArray[Any], tail_value: Any) -> NDArray[Any]:
            head = values[:n_lags]
            return np.concatenate([head, np.asarray(tail_value)[None]]) if tail else head

        count = cut(self._count, 1)
        lag_frames = cut(self.lags, self._tail_lag)
        lag_times = cut(self._lag_time_sum, self._tail_time) / count
        m_count = cut(self._m_count, 0)
        m_norm = np.maximum(m_count, 1)
        msd: dict[str, dict[str, FloatArray]] = {}
        n_samples: dict[str, NDArray[np.int64]] = {}
        fourth: dict[str, dict[str, FloatArray]] = {}
        fourth_msd: dict[str, dict[str, FloatArray]] = {}
        fourth_samples: dict[str, NDArray[np.int64]] = {}
        for name, idx in self._groups.items():
            sq = cut(self._sq_sum[name], self._tail_sq[name])
            per_axis = sq / (count * idx.size)[:, None]
            msd[name] = {
                comp: per_axis[:, list(axes)].sum(axis=1) for comp, axes in _COMPONENT_AXES.items()
            }
            n_samples[name] = count * idx.size
            m2 = cut(self._m2_sum[name], np.zeros(3)) / (m_norm * idx.size)[:, None]
            m4 = cut(self._m4_sum[name], np.zeros((3, 3))) / (m_norm * idx.size)[:, None, None]
            fourth_msd[name] = {
                comp: m2[:, list(axes)].sum(axis=1) for comp, axes in _COMPONENT_AXES.items()
            }
            fourth[name] = {
                comp: m4[:, list(axes)][:, :, list(axes)].sum(axis=(1, 2))
                for comp, axes in _COMPONENT_AXES.items()
            }
            fourth_samples[name] = m_count * idx.size
        dt = (self._t_last - self._t_first) / (self._n_frames - 1)
        return MSDResult(
            lag_times=lag_times,
            msd=msd,
            n_samples=n_samples,
            n_origins=count.copy(),
            n_atoms={name: int(idx.size) for name, idx in self._groups.items()},
            origin_spacing=dt * self.origin_interval,
            n_frames=self._n_frames,
            fourth_moment=fourth,
            fourth_moment_msd=fourth_msd,
            fourth_moment_samples=fourth_samples,
            lag_frames=lag_frames,
        )


def _block_order(groups: Sequence[NDArray[np.intp]]) -> NDArray[np.intp]:
    """The atoms of any group, each group of a nested or disjoint family a contiguous block.

    Such families are the usual ones (element groups; "Li" = "Li metal" + "Li compound").
    Atoms are sorted by their memberships, largest group first (members before the others),
    then by index: like a depth-first walk of the family's tree.
    """
    atoms = np.unique(np.concatenate(groups))
    by_size = sorted(groups, key=lambda g: -g.size)
    member = [~np.isin(atoms, g) for g in by_size]  # False sorts first: members lead
    # lexsort's primary key is the last one: the largest group.
    return np.asarray(atoms[np.lexsort(member[::-1])], dtype=np.intp)


def _gram(squares: FloatArray, rows: NDArray[np.intp]) -> FloatArray:
    """Gram matrices sum_i s_ia s_ib of the (n_atoms, 3) squared displacements ``squares[rows]``.

    One BLAS product per origin, on a view (no gathered copy): a batched ``matmul`` of the
    transposed view was measured no faster, and building the six products per atom costs
    three times more.
    """
    out = np.empty((rows.size, 3, 3))
    for k, row in enumerate(rows):
        s = squares[row]
        np.matmul(s.T, s, out=out[k])
    return out
