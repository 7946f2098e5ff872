"""Tracer diffusion from MD: unwrapping, streaming MSD, D* with honest errors, Arrhenius.

Everything here is a pure function of arrays fed frame by frame: no file I/O and no MD engine, so
the same code serves a LAMMPS dump reader, an ASE trajectory or a synthetic test.

Units: positions in A, times in ps, MSD in A^2, D* in cm^2/s (1 A^2/ps = 1e-4 cm^2/s),
activation energies in meV, temperatures in K.

Conventions: cells are 3x3 arrays whose ROWS are the lattice vectors (pymatgen and ASE), so
Cartesian = fractional @ cell. The interface normal is the Cartesian z axis: "x" and "y" are the
in-plane components, "z" the out-of-plane one.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy import linalg, stats

#: 1 A^2/ps expressed in cm^2/s: 1e-16 cm^2 / 1e-12 s.
A2_PER_PS_TO_CM2_PER_S = 1e-4

#: Boltzmann constant in meV/K (CODATA 2018, exact in the SI).
BOLTZMANN_MEV_PER_K = 8.617333262e-2

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
    """Mean squared displacements accumulated by :class:`StreamingMSD`.

    Attributes
    ----------
    lag_times : numpy.ndarray, shape (n_lags,)
        Lag times (ps), the mean of t - t_origin over the origins that reached each lag;
        index k is a lag of k frames.
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

    """

    lag_times: FloatArray
    msd: dict[str, dict[str, FloatArray]]
    n_samples: dict[str, NDArray[np.int64]]
    n_origins: NDArray[np.int64]
    n_atoms: dict[str, int]
    origin_spacing: float
    n_frames: int

    def diffusivity(
        self, group: str, component: str, fit_window: tuple[float, float], **kwargs: Any
    ) -> DiffusivityFit:
        """Shortcut for :func:`tracer_diffusivity` on one group and component."""
        if group not in self.msd:
            raise KeyError(f"unknown group {group!r}; have {sorted(self.msd)}")
        if component not in COMPONENT_DIMENSION:
            raise KeyError(f"unknown component {component!r}; have {list(COMPONENT_DIMENSION)}")
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


class StreamingMSD:
    r"""Multiple-time-origin MSD with memory bounded independently of the run length.

    A new time origin is stored every ``origin_interval`` frames and retired once it is
    ``max_lag`` frames old, so at most ``max_lag // origin_interval + 1`` origins (each an
    (n_group_atoms, 3) array, with a work array of the same size) are ever held, plus
    accumulators of size (max_lag + 1) per group. Each frame updates every live origin:

    .. math::

        \mathrm{MSD}_g^{\alpha}(k) = \frac{1}{n_g(k)} \sum_{o} \sum_{i \in g}
            \left[\Delta r_{i,\alpha}(o, k) - \Delta R_{\alpha}(o, k)\right]^2

    with :math:`\Delta r_i(o, k) = r_i(o + k) - r_i(o)`, :math:`\Delta R` the same for the
    centre of mass of the drift atoms, and :math:`n_g(k)` the number of (origin, atom) pairs.
    Subtracting the centre-of-mass displacement removes thermostat/barostat drift of the whole
    cell; for N identical random walkers it also lowers the MSD by the exact factor (1 - 1/N),
    negligible for real cells but visible with a handful of atoms.

    Cost per frame is O(n_stored_origins * n_group_atoms), with n_group_atoms the atoms in at
    least one group (the centre of mass alone touches every atom).

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

    """

    def __init__(
        self,
        groups: Mapping[str, Sequence[int]],
        max_lag: int,
        origin_interval: int = 1,
        masses: ArrayLike | None = None,
        drift_atoms: Sequence[int] | None = None,
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
        n_lags = self.max_lag + 1
        self._sq_sum = {name: np.zeros((n_lags, 3)) for name in self._groups}
        self._count = np.zeros(n_lags, dtype=np.int64)
        self._lag_time_sum = np.zeros(n_lags)
        self._weights: FloatArray | None = None
        self._used: NDArray[np.intp] | None = None
        self._local: dict[str, NDArray[np.intp] | None] = {}
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
        # Only atoms of some group need displacements: origins hold those atoms alone, and
        # each group indexes into them (None = the group is all of them, in order).
        used = np.unique(np.concatenate(list(self._groups.values())))
        self._used = None if used.size == n_atoms else used
        self._local = {
            name: None if np.array_equal(idx, used) else np.searchsorted(used, idx)
            for name, idx in self._groups.items()
        }
        # Origins are stored relative to their centre of mass (r_i - R), so one subtraction
        # gives the drift-corrected displacement (r_i - R)(t) - (r_i - R)(origin).
        self._origin_pos = np.zeros((self._n_slots, used.size, 3))
        # Work array reused every frame: no allocation (and page faults) per frame.
        self._work = np.empty_like(self._origin_pos)
        # Sums over a group's atoms as a matrix product with ones (BLAS, fast on (m, 3) rows).
        self._ones = {
            name: np.ones(used.size if local is None else local.size)
            for name, local in self._local.items()
        }
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

        # Slots fill in order, so the filled ones are a prefix of the buffer; at most one of
        # them (just retired) is dead: work on the prefix in place and keep the live rows.
        n = self._n_filled
        live = np.flatnonzero(self._origin_frame[:n] >= 0)
        lags = frame - self._origin_frame[live]
        work = self._work[:n]
        np.subtract(rel[None, :, :], self._origin_pos[:n], out=work)
        np.multiply(work, work, out=work)
        # Each origin has a distinct lag, so fancy-index accumulation does not collide.
        for name, local in self._local.items():
            part = work if local is None else work[:, local, :]
            self._sq_sum[name][lags] += np.matmul(self._ones[name], part)[live]
        self._count[lags] += 1
        self._lag_time_sum[lags] += t - self._origin_time[live]

        self._n_frames += 1
        self._t_last = t

    def result(self) -> MSDResult:
        """MSD per group and component, lag times and sample counts (see :class:`MSDResult`)."""
        if self._n_frames < 2:
            raise ValueError(f"need at least 2 frames for an MSD, got {self._n_frames}")
        reached = np.flatnonzero(self._count > 0)
        n_lags = int(reached.max()) + 1  # lags are filled contiguously from 0
        count = self._count[:n_lags]
        lag_times = self._lag_time_sum[:n_lags] / count
        msd: dict[str, dict[str, FloatArray]] = {}
        n_samples: dict[str, NDArray[np.int64]] = {}
        for name, idx in self._groups.items():
            per_axis = self._sq_sum[name][:n_lags] / (count * idx.size)[:, None]
            msd[name] = {
                comp: per_axis[:, list(axes)].sum(axis=1) for comp, axes in _COMPONENT_AXES.items()
            }
            n_samples[name] = count * idx.size
        dt = (self._t_last - self._t_first) / (self._n_frames - 1)
        return MSDResult(
            lag_times=lag_times,
            msd=msd,
            n_samples=n_samples,
            n_origins=count.copy(),
            n_atoms={name: int(idx.size) for name, idx in self._groups.items()},
            origin_spacing=dt * self.origin_interval,
            n_frames=self._n_frames,
        )


# --------------------------------------------------------------------------------------------
# Tracer diffusivity by generalised least squares
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class DiffusivityFit:
    """Result of :func:`tracer_diffusivity`.

    Attributes
    ----------
    D, sigma_D : float
        Tracer diffusivity and its standard error (cm^2/s): the GLS error times
        ``max(1, sqrt(chi2 / dof))``. The GLS error alone is that of an ideal Gaussian walker;
        when the MSD scatters more than such a walker's (hops, correlated ions, a plateau of
        ions that do not diffuse), the Birge ratio sqrt(chi2/dof) widens it accordingly.
    sigma_D_model : float
        The unscaled GLS error (cm^2/s) of the random-walk covariance model.
    intercept, sigma_intercept : float
        MSD intercept of the linear fit and its (scaled) standard error (A^2).
    fit_window : tuple[float, float]
        First and last lag time actually used (ps).
    dimension : int
        d in MSD = 2 d D t.
    n_points : int
        MSD points entering the GLS fit (the window may be thinned, see ``max_points``).
    chi2, dof, p_value : float, int, float
        GLS chi-square of the residuals under the covariance model, its degrees of freedom and
        the upper-tail probability; chi2/dof near 1 means the MSD scatters like a random walk.
    n_independent : float
        n_atoms * run_time / t_end: an estimate of the decorrelated displacement samples at the
        longest lag used.
    sigma_D_ols : float
        Naive ordinary-least-squares standard error (cm^2/s), for comparison only: it treats
        overlapping MSD points as independent and underestimates the error.
    converged : bool
        D > 0, at least ``min_independent`` decorrelated samples, relative (scaled) error below
        ``max_relative_error`` and chi2/dof at most ``max_reduced_chi2`` (beyond it the MSD is
        not a straight line: ballistic or caged regime in the window, or no diffusion at all).

    """

    D: float
    sigma_D: float  # noqa: N815 - physics notation
    intercept: float
    sigma_intercept: float
    fit_window: tuple[float, float]
    dimension: int
    n_points: int
    chi2: float
    dof: int
    p_value: float
    n_independent: float
    sigma_D_ols: float  # noqa: N815 - physics notation
    converged: bool
    sigma_D_model: float  # noqa: N815 - physics notation
    covariance: FloatArray = field(repr=False)


def msd_covariance(
    lag_times: ArrayLike,
    n_origins: ArrayLike,
    origin_spacing: float,
    n_atoms: int,
    dimension: int,
    diffusivity: float,
) -> FloatArray:
    r"""Covariance of multiple-origin MSD estimates of independent Gaussian random walkers.

    Model (why: it is exact for the reference process, a Brownian walker sampled at the frames,
    and needs only D): origins for lag :math:`t_i` sit at :math:`0, \delta, \dots,
    (n_i - 1)\delta`. Two displacements of one walker along one axis over the intervals
    :math:`[a, a + t_i]` and :math:`[b, b + t_j]` are jointly Gaussian with covariance
    :math:`2 D\,\ell` where :math:`\ell` is the length of the intervals' overlap, and Isserlis'
    theorem gives :math:`\mathrm{cov}(X^2, Y^2) = 2\,\mathrm{cov}(X, Y)^2`. Summing over origin
    pairs by their offset :math:`m\delta`,

    .. math::

        \Sigma_{ij} = \frac{2 d (2D)^2}{N n_i n_j} \sum_m c_{ij}(m)\, \ell_{ij}(m\delta)^2

    with :math:`c_{ij}(m)` the number of origin pairs at offset m and N the number of
    independent walkers. For a long run and dense origins it reduces to the known asymptote
    :math:`\Sigma_{ij} \approx 8 d D^2 (t_i^2 t_j - t_i^3/3)/(N T)` for :math:`t_i \le t_j`
    (the overlapping-window covariance used by kinisi after Bullerjahn et al.); for sparse
    origins (:math:`\delta \ge t`) it gives independent samples, :math:`2 (2 d D t)^2/(d N n)`.

    Parameters
    ----------
    lag_times : array_like
        Lags (ps), positive.
    n_origins : array_like
        Origins averaged at each lag.
    origin_spacing : float
        delta, time between origins (ps).
    n_atoms : int
        Walkers in the group.
    dimension : int
        d, axes summed in the MSD.
    diffusivity : float
        D (A^2/ps) of the model walk.

    Returns
    -------
    numpy.ndarray, shape (n_lags, n_lags)
        Covariance of the MSD points (A^4).

    """
    t = np.asarray(lag_times, dtype=float)
    n = np.asarray(n_origins, dtype=float)
    if np.any(t <= 0) or np.any(n < 1):
        raise ValueError("lag times must be positive and every lag needs >= 1 origin")
    if origin_spacing <= 0:
        raise ValueError(f"origin_spacing must be positive, got {origin_spacing}")
    # Offsets m (in units of the origin spacing) at which two windows can overlap.
    m_max = int(np.ceil(t.max() / origin_spacing)) + 1
    m = np.arange(-m_max, m_max + 1, dtype=float)
    s = m * origin_spacing
    cov = np.empty((t.size, t.size))
    for i in range(t.size):
        # Window i = [s, s + t_i] against windows j = [0, t_j], for all j at once: (n_j, n_m).
        overlap = np.clip(
            np.minimum(s[None, :] + t[i], t[:, None]) - np.maximum(s, 0.0)[None, :], 0.0, None
        )
        pairs = np.clip(
            np.minimum(n[i], n[:, None] + m[None, :]) - np.maximum(m, 0.0)[None, :], 0.0, None
        )
        cov[i] = (pairs * overlap**2).sum(axis=1) / (n[i] * n)
    cov *= 2.0 * dimension * (2.0 * diffusivity) ** 2 / n_atoms
    # Symmetrise away round-off so Cholesky sees an exactly symmetric matrix.
    return np.asarray(0.5 * (cov + cov.T), dtype=float)


def _gls(x: FloatArray, y: FloatArray, cov: FloatArray) -> tuple[FloatArray, FloatArray, float]:
    """Straight-line GLS: returns (intercept, slope), their covariance and chi-square."""
    design = np.column_stack([np.ones_like(x), x])
    # Neighbouring MSD points are almost perfectly correlated, so the covariance is badly
    # conditioned: work on the correlation matrix and add the smallest jitter that lets
    # Cholesky through.
    scale = np.sqrt(np.diag(cov))
    corr = cov / np.outer(scale, scale)
    jitter = 0.0
    for _ in range(12):
        try:
            chol = linalg.cholesky(corr + jitter * np.eye(x.size), lower=True)
            break
        except linalg.LinAlgError:
            jitter = 1e-12 if jitter == 0.0 else jitter * 10.0
    else:  # pragma: no cover - a covariance this singular means a broken input
        raise ValueError("MSD covariance matrix is singular; widen the fit window")
    a = linalg.solve_triangular(chol, design / scale[:, None], lower=True)
    b = linalg.solve_triangular(chol, y / scale, lower=True)
    beta, *_ = np.linalg.lstsq(a, b, rcond=None)
    beta_cov = np.linalg.inv(a.T @ a)
    resid = b - a @ beta
    return beta, beta_cov, float(resid @ resid)


def tracer_diffusivity(
    lag_times: ArrayLike,
    msd: ArrayLike,
    n_samples: ArrayLike,
    dimension: int,
    fit_window: tuple[float, float],
    *,
    n_atoms: int,
    origin_spacing: float,
    max_points: int = 64,
    min_independent: float = 10.0,
    max_relative_error: float = 0.5,
    max_reduced_chi2: float = 10.0,
) -> DiffusivityFit:
    r"""Tracer diffusivity from the slope of the MSD, with a correlation-aware uncertainty.

    .. math::

        \mathrm{MSD}(t) = b + 2 d D^* t, \qquad D^* = \frac{\text{slope}}{2d}

    fitted over ``fit_window`` (start it after the ballistic/caging regime). Because every
    MSD point reuses the same trajectory, the points are strongly correlated and ordinary least
    squares underestimates sigma_D several-fold. This fit is generalised least squares with the
    random-walk covariance of :func:`msd_covariance`, evaluated at the fitted D (iterated from
    the OLS estimate): the error of an ideal Gaussian diffusor sampled like the data
    (``sigma_D_model``). Non-Gaussian hopping, correlated ions or ions that only vibrate make
    the MSD scatter more than that; the reported sigma_D is therefore widened by the Birge
    ratio sqrt(chi2/dof) when it exceeds 1, and a chi2/dof above ``max_reduced_chi2`` (a MSD
    that is not a line in the window) leaves the fit unconverged.

    Parameters
    ----------
    lag_times : array_like
        Lag times (ps); index k is a lag of k frames as returned by :class:`StreamingMSD`.
    msd : array_like
        MSD (A^2) at each lag.
    n_samples : array_like
        (origin, atom) pairs averaged at each lag; divided by ``n_atoms`` it gives the origins.
    dimension : int
        d: 1 (one axis, out-of-plane), 2 (in-plane) or 3 (total).
    fit_window : tuple[float, float]
        (t_start, t_end) in ps, inclusive.
    n_atoms : int
        Atoms in the group (independent walkers of the covariance model).
    origin_spacing : float
        Time between consecutive origins (ps), :attr:`MSDResult.origin_spacing`.
    max_points : int
        The window is thinned to at most this many evenly spaced lags: adjacent points carry
        almost no independent information and the covariance cost grows as its square.
    min_independent, max_relative_error, max_reduced_chi2 : float
        Thresholds of the ``converged`` flag (see :class:`DiffusivityFit`).

    Returns
    -------
    DiffusivityFit
        D and sigma_D in cm^2/s, intercept in A^2, window in ps and diagnostics.

    Raises
    ------
    ValueError
        Inconsistent array lengths, a bad dimension, an empty window, or a window longer than
        the lags available.

    """
    t_all = np.asarray(lag_times, dtype=float).ravel()
    y_all = np.asarray(msd, dtype=float).ravel()
    ns_all = np.asarray(n_samples, dtype=float).ravel()
    if not t_all.size == y_all.size == ns_all.size:
        raise ValueError(
            f"lag_times, msd and n_samples differ in length: {t_all.size}, {y_all.size}, "
            f"{ns_all.size}"
        )
    if dimension not in (1, 2, 3):
        raise ValueError(f"dimension must be 1, 2 or 3, got {dimension}")
    if n_atoms < 1:
        raise ValueError(f"n_atoms must be >= 1, got {n_atoms}")
    t_start, t_end = (float(v) for v in fit_window)
    if not t_end > t_start:
        raise ValueError(f"empty fit window {fit_window}: need t_start < t_end")
    t_max = float(t_all.max()) if t_all.size else 0.0
    # Lag times are means over origins, so allow round-off of a fraction of a frame.
    tol = 1e-6 * max(t_max, 1.0)
    if t_end > t_max + tol:
        raise ValueError(
            f"fit window ends at {t_end} ps but the MSD only reaches lag {t_max} ps: the window "
            "is longer than the run (or than max_lag)"
        )
    in_window = np.flatnonzero((t_all >= t_start - tol) & (t_all <= t_end + tol) & (t_all > 0))
    if in_window.size < 3:
        raise ValueError(
            f"fit window {fit_window} holds {in_window.size} positive lags; need at least 3"
        )
    if in_window.size > max_points:
        pick = np.unique(np.round(np.linspace(0, in_window.size - 1, max_points)).astype(int))
        in_window = in_window[pick]
    t = t_all[in_window]
    y = y_all[in_window]
    n_orig = ns_all[in_window] / n_atoms
    if np.any(n_orig < 1):
        raise ValueError("n_samples below n_atoms at some lag: inconsistent n_atoms")

    # OLS: starting point for the covariance model and the naive error for comparison.
    design = np.column_stack([np.ones_like(t), t])
    beta_ols, *_ = np.linalg.lstsq(design, y, rcond=None)
    resid = y - design @ beta_ols
    s2 = float(resid @ resid) / max(t.size - 2, 1)
    sigma_slope_ols = float(np.sqrt(s2 * np.linalg.inv(design.T @ design)[1, 1]))

    # GLS iterated on D: the covariance scales as D^2, so the slope does not depend on the
    # starting D but the error does. Three passes settle it to well below its own uncertainty.
    d_model = abs(float(beta_ols[1])) / (2 * dimension)
    if d_model == 0.0:
        d_model = max(float(np.mean(np.abs(y))) / (2 * dimension * t.mean()), 1e-12)
    for _ in range(3):
        cov = msd_covariance(t, n_orig, origin_spacing, n_atoms, dimension, d_model)
        beta, beta_cov, chi2 = _gls(t, y, cov)
        if beta[1] > 0:
            d_model = float(beta[1]) / (2 * dimension)

    to_cgs = A2_PER_PS_TO_CM2_PER_S / (2 * dimension)
    diff = float(beta[1]) * to_cgs
    dof = t.size - 2
    p_value = float(stats.chi2.sf(chi2, dof)) if dof > 0 else 1.0
    reduced_chi2 = chi2 / dof if dof > 0 else 1.0
    sigma_model = float(np.sqrt(beta_cov[1, 1])) * to_cgs
    # Birge scaling: never narrower than the random-walk model, wider when the data scatter more.
    scale = max(1.0, float(np.sqrt(reduced_chi2)))
    sigma = sigma_model * scale
    # Run length: the last origin reaching lag t starts at (n_origins - 1) * spacing.
    run_time = float((n_orig[-1] - 1) * origin_spacing + t[-1])
    n_independent = n_atoms * run_time / float(t[-1])
    converged = bool(
        diff > 0
        and n_independent >= min_independent
        and sigma <= max_relative_error * diff
        and reduced_chi2 <= max_reduced_chi2
    )
    return DiffusivityFit(
        D=diff,
        sigma_D=sigma,
        intercept=float(beta[0]),
        sigma_intercept=float(np.sqrt(beta_cov[0, 0])) * scale,
        fit_window=(float(t[0]), float(t[-1])),
        dimension=dimension,
        n_points=int(t.size),
        chi2=chi2,
        dof=dof,
        p_value=p_value,
        n_independent=n_independent,
        sigma_D_ols=sigma_slope_ols * to_cgs,
        converged=converged,
        covariance=beta_cov * scale**2,
        sigma_D_model=sigma_model,
    )


# --------------------------------------------------------------------------------------------
# Arrhenius
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ArrheniusFit:
    """Result of :func:`arrhenius`.

    Attributes
    ----------
    Ea, sigma_Ea : float
        Activation energy and its standard error (meV).
    D0, sigma_D0 : float
        Prefactor and its first-order standard error sigma_D0 = D0 sigma_lnD0 (cm^2/s).
    ln_D0, sigma_ln_D0 : float
        ln(D0 / (cm^2/s)) and its standard error; D0 is log-normal, so quote these for large
        errors.
    covariance : numpy.ndarray, shape (2, 2)
        Covariance of (ln D0, Ea [meV]).
    chi2 : float
        Weighted residual sum of squares; compare with ``dof``.
    dof : int
        n_temperatures - 2.

    """

    Ea: float
    sigma_Ea: float  # noqa: N815 - physics notation
    D0: float
    sigma_D0: float  # noqa: N815 - physics notation
    ln_D0: float  # noqa: N815 - physics notation
    sigma_ln_D0: float  # noqa: N815 - physics notation
    covariance: FloatArray
    chi2: float
    dof: int


def arrhenius(
    temperatures_K: ArrayLike,  # noqa: N803 - physics notation of the Arrhenius law
    D: ArrayLike,  # noqa: N803
    sigma_D: ArrayLike,  # noqa: N803
) -> ArrheniusFit:
    r"""Weighted Arrhenius fit :math:`\ln D = \ln D_0 - E_a / (k_B T)`.

    Linear least squares of :math:`y = \ln D` on :math:`x = 1/(k_B T)` with weights
    :math:`1/\sigma_{\ln D}^2`, :math:`\sigma_{\ln D} = \sigma_D / D` (first-order propagation).
    Parameter errors come from the weights alone (not rescaled by chi-square), so they are
    as honest as the input sigma_D.

    Parameters
    ----------
    temperatures_K : array_like
        Temperatures (K), positive, at least two distinct.
    D : array_like
        Tracer diffusivities (cm^2/s), positive.
    sigma_D : array_like
        Their standard errors (cm^2/s), positive.

    Returns
    -------
    ArrheniusFit
        Ea in meV, D0 in cm^2/s, with errors and the (ln D0, Ea) covariance.

    """
    temps = np.asarray(temperatures_K, dtype=float).ravel()
    d = np.asarray(D, dtype=float).ravel()
    sd = np.asarray(sigma_D, dtype=float).ravel()
    if not temps.size == d.size == sd.size:
        raise ValueError(
            f"temperatures, D and sigma_D differ in length: {temps.size}, {d.size}, {sd.size}"
        )
    if temps.size < 2 or np.unique(temps).size < 2:
        raise ValueError("an Arrhenius fit needs at least 2 distinct temperatures")
    if np.any(temps <= 0):
        raise ValueError("temperatures must be positive (K)")
    if np.any(d <= 0):
        raise ValueError("D must be positive at every temperature to take ln D")
    if np.any(sd <= 0) or not np.all(np.isfinite(sd)):
        raise ValueError("sigma_D must be positive and finite")
    x = 1.0 / (BOLTZMANN_MEV_PER_K * temps)  # 1/meV
    y = np.log(d)
    w = (d / sd) ** 2
    design = np.column_stack([np.ones_like(x), -x])  # parameters (ln D0, Ea)
    normal = design.T @ (w[:, None] * design)
    cov = np.linalg.inv(normal)
    beta = cov @ (design.T @ (w * y))
    resid = y - design @ beta
    ln_d0, ea = float(beta[0]), float(beta[1])
    d0 = float(np.exp(ln_d0))
    sigma_ln_d0 = float(np.sqrt(cov[0, 0]))
    return ArrheniusFit(
        Ea=ea,
        sigma_Ea=float(np.sqrt(cov[1, 1])),
        D0=d0,
        sigma_D0=d0 * sigma_ln_d0,
        ln_D0=ln_d0,
        sigma_ln_D0=sigma_ln_d0,
        covariance=cov,
        chi2=float(resid @ (w * resid)),
        dof=int(temps.size - 2),
    )


# --------------------------------------------------------------------------------------------
# Fit window
# --------------------------------------------------------------------------------------------

#: Fewest positive MSD lags a fit window must hold for :func:`fit_window_problem`.
MIN_FIT_POINTS = 5


def fit_window_default(lag_times: ArrayLike, run_time: float) -> tuple[float, float]:
    """Default MSD fit window (ps): the middle of the reliable part of the MSD.

    The window ends at ``t_end = min(run_time / 2, longest lag)``: beyond half the run fewer
    than half the origins reach a lag and the MSD turns noisy. It starts at ``t_end / 5``
    (10 % of the run when the MSD reaches half the run), well after the ballistic and caging
    regime of an ion in a solid (a few ps) for any production run of >= 1 ns, and leaves the
    window four fifths of the reachable lags.

    Parameters
    ----------
    lag_times : array_like
        Lag times of the MSD (ps), :attr:`MSDResult.lag_times`.
    run_time : float
        Duration of the trajectory (ps): time of the last frame minus that of the first.

    Returns
    -------
    tuple[float, float]
        (t_start, t_end) in ps, for :func:`tracer_diffusivity`.

    Raises
    ------
    ValueError
        No positive lag, or a non-positive run time.

    """
    t = np.asarray(lag_times, dtype=float).ravel()
    if run_time <= 0 or not np.isfinite(run_time):
        raise ValueError(f"run_time must be positive (ps), got {run_time}")
    if t.size == 0 or not np.any(t > 0):
        raise ValueError("the MSD has no positive lag time: need at least 2 frames")
    t_end = min(0.5 * float(run_time), float(t.max()))
    return (0.2 * t_end, t_end)


def fit_window_problem(  # noqa: PLR0911 - one return per problem reads best
    fit_window: tuple[float, float], lag_times: ArrayLike, min_points: int = MIN_FIT_POINTS
) -> str | None:
    """What is wrong with an MSD fit window, or None when it is usable.

    Pure check for the boundary (command line, makers): a window is usable when
    ``0 <= t_start < t_end <= longest lag`` and it holds at least ``min_points`` positive lags.

    Parameters
    ----------
    fit_window : tuple[float, float]
        (t_start, t_end) in ps.
    lag_times : array_like
        Lag times of the MSD (ps).
    min_points : int
        Fewest positive lags the window must hold.

    Returns
    -------
    str or None
        A one-line description of the problem and what to do, or None.

    """
    t = np.asarray(lag_times, dtype=float).ravel()
    try:
        t_start, t_end = (float(v) for v in fit_window)
    except (TypeError, ValueError):
        return f"fit window {fit_window!r} is not a pair of times (t_start, t_end) in ps"
    if not (np.isfinite(t_start) and np.isfinite(t_end)):
        return f"fit window ({t_start}, {t_end}) ps is not finite"
    if t_start < 0:
        return f"fit window starts at a negative time {t_start} ps"
    if not t_end > t_start:
        return f"fit window ({t_start}, {t_end}) ps is empty or reversed: need t_start < t_end"
    t_max = float(t.max()) if t.size else 0.0
    tol = 1e-6 * max(t_max, 1.0)
    if t_end > t_max + tol:
        return (
            f"fit window ends at {t_end} ps but the MSD only reaches {t_max:.6g} ps: end it "
            "earlier, or run longer / raise max_lag"
        )
    n_in = int(np.count_nonzero((t >= t_start - tol) & (t <= t_end + tol) & (t > 0)))
    if n_in < min_points:
        return (
            f"fit window ({t_start}, {t_end}) ps holds {n_in} MSD points; need at least "
            f"{min_points}: widen it or store frames more often"
        )
    return None
