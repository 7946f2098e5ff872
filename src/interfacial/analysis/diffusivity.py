"""Tracer diffusivity D* from an MSD by generalised least squares, and the MSD fit window.

Holds the fit :func:`tracer_diffusivity` (result :class:`DiffusivityFit`) with the random-walk
covariance of multiple-origin MSD points (:func:`msd_covariance`), and the fit-window helpers
(:func:`fit_window_default`, :func:`fit_window_problem`, :data:`MIN_FIT_POINTS`). The MSD itself
comes from :mod:`interfacial.analysis.msd`.

Pure functions of arrays: no file I/O and no MD engine.

Units: times in ps, MSD in A^2, D* in cm^2/s (1 A^2/ps = 1e-4 cm^2/s).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy import linalg, optimize, stats

from interfacial.analysis.verdict import DEFAULT_HOP_LENGTH, Status, classify, log_slope

#: 1 A^2/ps expressed in cm^2/s: 1e-16 cm^2 / 1e-12 s.
A2_PER_PS_TO_CM2_PER_S = 1e-4

FloatArray = NDArray[np.float64]


# --------------------------------------------------------------------------------------------
# Tracer diffusivity by generalised least squares
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class DiffusivityFit:
    """Result of :func:`tracer_diffusivity`.

    Attributes
    ----------
    D, sigma_D : float
        Tracer diffusivity and its GLS standard error (cm^2/s) under the covariance named by
        ``covariance_kind``. No Birge widening: with the data covariance the error is already
        that of the data (chi2/dof stays a diagnostic).
    sigma_D_model : float
        GLS error (cm^2/s) of the ideal random-walk covariance alone, for comparison.
    intercept, sigma_intercept : float
        MSD intercept of the linear fit and its standard error (A^2).
    fit_window : tuple[float, float]
        First and last lag time actually used (ps).
    dimension : int
        d in MSD = 2 d D t.
    n_points : int
        MSD points entering the GLS fit (the window may be thinned, see ``max_points``).
    chi2, dof, p_value : float, int, float
        GLS chi-square of the residuals under the covariance used, its degrees of freedom and
        the upper-tail probability (diagnostics only).
    n_independent : float
        n_atoms * run_time / t_end: an estimate of the decorrelated displacement samples at the
        longest lag used.
    sigma_D_ols : float
        Naive ordinary-least-squares standard error (cm^2/s), for comparison only: it treats
        overlapping MSD points as independent and underestimates the error.
    covariance_kind : {"data", "random-walk model"}
        "data": :func:`data_covariance` from the fourth moments; "random-walk model":
        :func:`msd_covariance` (curves stored without fourth moments).
    status, verdict, D_upper, D_upper_rule, run_longer_ps, n_hops
        The verdict of :func:`interfacial.analysis.verdict.classify`.
    slope_end, sigma_slope_end : float
        Log-log MSD slope over the last octave of the window and its standard error.
    hop_length : float
        Hop length (A) the verdict used.
    converged : bool
        ``status == "diffusive"`` (kept for readers of the old flag).

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
    sigma_D_model: float  # noqa: N815 - physics notation
    covariance_kind: Literal["data", "random-walk model"]
    status: Status
    verdict: str
    D_upper: float | None
    D_upper_rule: str | None
    run_longer_ps: float | None
    n_hops: float
    slope_end: float
    sigma_slope_end: float
    hop_length: float
    covariance: FloatArray = field(repr=False)

    @property
    def converged(self) -> bool:
        """``status == "diffusive"``, the old flag's name."""
        return self.status == "diffusive"


def variance_ratio(
    msd: ArrayLike, fourth_moment: ArrayLike, dimension: int, samples: ArrayLike | None = None
) -> FloatArray:
    r"""Variance ratio kappa = Var_data(|dr|^2) / Var_Gauss(|dr|^2) per lag; NaN if not sampled.

    For a Gaussian displacement with variance :math:`\sigma^2` per axis,
    :math:`|\Delta r|^2 = \sigma^2 \chi^2_d` has variance :math:`2 d \sigma^4 = 2 M_2^2 / d`, so

    .. math::

        \kappa = \frac{M_4 - M_2^2}{2 M_2^2 / d} = \frac{d}{2}\left(\frac{M_4}{M_2^2} - 1\right)
               = 1 + \frac{d + 2}{2}\,\alpha_2,
        \qquad \alpha_2 = \frac{d\,M_4}{(d + 2) M_2^2} - 1

    with :math:`M_2 = \langle|\Delta r|^2\rangle`, :math:`M_4 = \langle|\Delta r|^4\rangle` over
    the same samples (:attr:`~interfacial.analysis.msd.MSDResult.fourth_moment`). kappa = 1 for
    a Gaussian walker, > 1 for hops (heavy tails).

    Parameters
    ----------
    msd, fourth_moment : array_like
        M_2 (A^2) and M_4 (A^4) per lag.
    dimension : int
        d of the component.
    samples : array_like, optional
        Samples behind each lag; lags with none (or M_2 <= 0) give NaN.

    """
    m2 = np.asarray(msd, dtype=float)
    m4 = np.asarray(fourth_moment, dtype=float)
    ok = m2 > 0
    if samples is not None:
        ok &= np.asarray(samples) > 0
    out = np.full(m2.shape, np.nan)
    out[ok] = 0.5 * dimension * (m4[ok] / m2[ok] ** 2 - 1.0)
    return out


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
    t, n = _checked_sampling(lag_times, n_origins, origin_spacing)
    cov = _window_covariance(t, n, origin_spacing, np.square)
    return cov * 2.0 * dimension * (2.0 * diffusivity) ** 2 / n_atoms


def _checked_sampling(
    lag_times: ArrayLike, n_origins: ArrayLike, origin_spacing: float
) -> tuple[FloatArray, FloatArray]:
    """Lag times and origin counts as float arrays, after the checks both covariances need."""
    t = np.asarray(lag_times, dtype=float)
    n = np.asarray(n_origins, dtype=float)
    if t.size == 0 or np.any(t <= 0) or np.any(n < 1):
        raise ValueError("lag times must be positive and every lag needs >= 1 origin")
    if origin_spacing <= 0:
        raise ValueError(f"origin_spacing must be positive, got {origin_spacing}")
    return t, n


def _window_covariance(
    t: FloatArray, n: FloatArray, origin_spacing: float, overlap_variance: Any
) -> FloatArray:
    """sum_m c_ij(m) V(l_ij(m)) / (n_i n_j): the origin-pair sum shared by both covariances."""
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
        cov[i] = (pairs * overlap_variance(overlap)).sum(axis=1) / (n[i] * n)
    # Symmetrise away round-off so Cholesky sees an exactly symmetric matrix.
    return np.asarray(0.5 * (cov + cov.T), dtype=float)


def squared_displacement_variance(
    msd: ArrayLike, fourth_moment: ArrayLike, samples: ArrayLike | None = None
) -> FloatArray:
    """Var(|dr|^2) = M4 - M2^2 (A^4) per lag over the moment subset; NaN where not sampled."""
    m2 = np.asarray(msd, dtype=float)
    m4 = np.asarray(fourth_moment, dtype=float)
    ok = np.ones(m2.shape, dtype=bool) if samples is None else np.asarray(samples) > 0
    out = np.full(m2.shape, np.nan)
    out[ok] = np.maximum(m4[ok] - m2[ok] ** 2, 0.0)
    return out


def data_covariance(
    lag_times: ArrayLike,
    n_origins: ArrayLike,
    origin_spacing: float,
    n_atoms: int,
    variance_lags: ArrayLike,
    variance: ArrayLike,
) -> FloatArray:
    r"""Covariance of multiple-origin MSD points with the variance taken from the data.

    The approach of kinisi's methodology (McCluskey, Coles & Morgan, J. Chem. Theory Comput.
    2024; arXiv 2305.18244): the variance of the squared displacements is estimated from the
    data, divided by the number of independent observations, and the correlation between lags
    comes from the overlapping windows. Written out for overlapping windows: take two windows
    of one ion, of lags :math:`t_i` and :math:`t_j`, that share an interval of length
    :math:`\ell`; their displacements are :math:`X = U + Z` and :math:`Y = V + Z` with Z the
    displacement over the shared interval and U, V over the parts they do not share. For
    independent increments (a random walk, uncorrelated hops) U, V, Z are independent with zero
    mean, and expanding :math:`|U + Z|^2 |V + Z|^2` every cross term vanishes but one:

    .. math::

        \mathrm{cov}(|X|^2, |Y|^2) = \mathrm{Var}(|Z|^2) \equiv V(\ell)

    the variance of the squared displacement over the overlap, which the data give at every lag
    (:func:`squared_displacement_variance`, :math:`M_4 - M_2^2`). Summing over origin pairs at
    offset :math:`m\delta` exactly as :func:`msd_covariance` does,

    .. math::

        \Sigma_{ij} = \frac{1}{N n_i n_j} \sum_m c_{ij}(m)\, V(\ell_{ij}(m)).

    The measured V is noisy, and a noisy V need not give a positive-definite matrix. It is
    therefore fitted, over the measured lags up to the longest lag of the fit, by

    .. math::

        V(\ell) = c_1 \ell + c_2 \ell^2, \qquad c_1, c_2 \ge 0

    (non-negative least squares on relative residuals). This form is exact for a Gaussian
    walker (:math:`c_1 = 0`, :math:`c_2 = 2 d (2D)^2`: then this is :func:`msd_covariance`) and
    for uncorrelated hops of rate Gamma and length a plus any Gaussian walk
    (:math:`\mathrm{Var}|Z|^2 = \Gamma\ell\langle a^4\rangle + 2(\Gamma\ell a^2)^2/d`), and
    with non-negative coefficients it is the covariance of a real process, so Sigma is
    positive semi-definite. Hops give heavier tails (:math:`c_1 > 0`, i.e.
    :math:`\kappa = V_{data}/V_{Gauss} = 1 + (d+2)\alpha_2/2 > 1`, :func:`variance_ratio`) and a
    larger error, with no Birge factor. Why not the simpler :math:`\rho^{model}_{ij} s_i s_j`
    with :math:`s_i^2 = \Sigma^{model}_{ii}\kappa_i`: a lag-dependent rescaling of the nearly
    singular random-walk correlation lets the GLS treat combinations of neighbouring points as
    almost noise-free; on the public Li6PS5Cl AIMD run it shrank the error of Li D* four-fold,
    below even the random-walk model's.

    Parameters
    ----------
    lag_times, n_origins, origin_spacing, n_atoms
        As for :func:`msd_covariance`.
    variance_lags, variance : array_like
        Lags (ps) at which Var(|dr|^2) (A^4) was measured, and the values (non-finite ones are
        skipped).

    Returns
    -------
    numpy.ndarray, shape (n_lags, n_lags)
        Covariance of the MSD points (A^4).

    """
    t, n = _checked_sampling(lag_times, n_origins, origin_spacing)
    c1, c2 = variance_law(variance_lags, variance, float(t.max()))

    def overlap_variance(ell: FloatArray) -> FloatArray:
        return np.asarray(c1 * ell + c2 * ell**2, dtype=float)

    return _window_covariance(t, n, origin_spacing, overlap_variance) / n_atoms


def variance_law(
    variance_lags: ArrayLike, variance: ArrayLike, t_max: float
) -> tuple[float, float]:
    """(c1, c2) >= 0 of V(l) = c1 l + c2 l^2 fitted to Var(|dr|^2) at lags in (0, t_max].

    Non-negative least squares (scipy) on relative residuals (V_fit / V_data - 1), so short
    and long lags weigh alike; see :func:`data_covariance`.
    """
    lags = np.asarray(variance_lags, dtype=float).ravel()
    var = np.asarray(variance, dtype=float).ravel()
    tol = 1e-6 * max(t_max, 1.0)
    ok = np.isfinite(var) & (var > 0) & (lags > 0) & (lags <= t_max + tol)
    if not ok.any():
        ok = np.isfinite(var) & (var > 0) & (lags > 0)
    if not ok.any():
        raise ValueError("no lag with a measured variance of the squared displacements")
    ell, v = lags[ok], var[ok]
    coef, _ = optimize.nnls(np.column_stack([ell / v, ell**2 / v]), np.ones_like(v))
    if not np.any(coef > 0):  # pragma: no cover - V > 0 somewhere gives a positive fit
        raise ValueError("the variance of the squared displacements fits to zero")
    return float(coef[0]), float(coef[1])


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
    sq_variance: ArrayLike | None = None,
    hop_length: float = DEFAULT_HOP_LENGTH,
    max_points: int = 64,
) -> DiffusivityFit:
    r"""Tracer diffusivity from the slope of the MSD, with a correlation-aware uncertainty.

    .. math::

        \mathrm{MSD}(t) = b + 2 d D^* t, \qquad D^* = \frac{\text{slope}}{2d}

    fitted over ``fit_window`` (start it after the ballistic/caging regime, see
    :func:`interfacial.analysis.regime.diffusive_window`). Because every MSD point reuses the
    same trajectory, the points are strongly correlated and ordinary least squares
    underestimates sigma_D several-fold. This fit is generalised least squares with

    - the data covariance :func:`data_covariance` when ``sq_variance`` (from the fourth
      moments, :func:`squared_displacement_variance`) is given: the variance of the squared
      displacements measured on the data, the correlation of the overlapping windows;
    - else the random-walk covariance :func:`msd_covariance` (stored curves without fourth
      moments).

    The model is evaluated at the fitted D, iterated from the OLS estimate (three passes settle
    it well below its own uncertainty); the data covariance needs no iteration. chi2/dof is
    kept as a diagnostic; the error is not rescaled by it. The verdict
    (:func:`interfacial.analysis.verdict.classify`) follows from the fit, the log-log slope
    over the last octave of the window and the hop length.

    Parameters
    ----------
    lag_times : array_like
        Lag times (ps), increasing, not necessarily evenly spaced (the lag grid of
        :class:`~interfacial.analysis.msd.StreamingMSD`).
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
        Time between consecutive origins (ps),
        :attr:`~interfacial.analysis.msd.MSDResult.origin_spacing`.
    sq_variance : array_like, optional
        Var(|dr|^2) (A^4) at each lag, NaN where not sampled (interpolated in lag time).
    hop_length : float
        Hop length (A) of the verdict.
    max_points : int
        The window is thinned to at most this many evenly spaced lags: adjacent points carry
        almost no independent information and the covariance cost grows as its square.

    Returns
    -------
    DiffusivityFit
        D and sigma_D in cm^2/s, intercept in A^2, window in ps, diagnostics and verdict.

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
    if not hop_length > 0:
        raise ValueError(f"hop_length must be positive (A), got {hop_length}")
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
    cov_data = None
    if sq_variance is not None:
        v_all = np.asarray(sq_variance, dtype=float).ravel()
        if v_all.size != t_all.size:
            raise ValueError(f"sq_variance has {v_all.size} values for {t_all.size} lags")
        if np.any(np.isfinite(v_all) & (t_all > 0)):
            cov_data = data_covariance(t, n_orig, origin_spacing, n_atoms, t_all, v_all)

    # OLS: starting point for the covariance and the naive error for comparison.
    design = np.column_stack([np.ones_like(t), t])
    beta_ols, *_ = np.linalg.lstsq(design, y, rcond=None)
    resid = y - design @ beta_ols
    s2 = float(resid @ resid) / max(t.size - 2, 1)
    sigma_slope_ols = float(np.sqrt(s2 * np.linalg.inv(design.T @ design)[1, 1]))

    def model_cov(beta: FloatArray) -> FloatArray:
        d_model = abs(float(beta[1])) / (2 * dimension)
        if d_model == 0.0:
            d_model = max(float(np.mean(np.abs(y))) / (2 * dimension * t.mean()), 1e-12)
        return msd_covariance(t, n_orig, origin_spacing, n_atoms, dimension, d_model)

    # The model covariance scales as D^2, so the slope does not depend on the starting D but
    # the error does: iterate.
    beta_model = beta_ols
    for _ in range(3):
        cov_model = model_cov(beta_model)
        beta_model, beta_cov_model, chi2_model = _gls(t, y, cov_model)
    if cov_data is None:
        cov, beta, beta_cov, chi2 = cov_model, beta_model, beta_cov_model, chi2_model
    else:
        cov = cov_data
        beta, beta_cov, chi2 = _gls(t, y, cov)

    to_cgs = A2_PER_PS_TO_CM2_PER_S / (2 * dimension)
    diff = float(beta[1]) * to_cgs
    sigma = float(np.sqrt(beta_cov[1, 1])) * to_cgs
    dof = t.size - 2
    p_value = float(stats.chi2.sf(chi2, dof)) if dof > 0 else 1.0
    # Run length: the last origin reaching lag t starts at (n_origins - 1) * spacing.
    run_time = float((n_orig[-1] - 1) * origin_spacing + t[-1])
    # Log-log slope over the last octave of the window (from the point nearest t_end / 2).
    a = int(np.argmin(np.abs(t - 0.5 * t[-1]))) if t.size > 1 else 0
    a = min(a, t.size - 2)
    slope, sigma_slope = log_slope(
        float(t[a]), float(t[-1]), float(y[a]), float(y[-1]), cov[np.ix_([a, -1], [a, -1])]
    )
    verdict = classify(
        D=diff,
        sigma_D=sigma,
        dimension=dimension,
        n_atoms=n_atoms,
        run_time=run_time,
        t_end=float(t[-1]),
        msd_end=float(y[-1]),
        sigma_msd_end=float(np.sqrt(cov[-1, -1])),
        slope_end=slope,
        sigma_slope_end=sigma_slope,
        hop_length=hop_length,
    )
    return DiffusivityFit(
        D=diff,
        sigma_D=sigma,
        intercept=float(beta[0]),
        sigma_intercept=float(np.sqrt(beta_cov[0, 0])),
        fit_window=(float(t[0]), float(t[-1])),
        dimension=dimension,
        n_points=int(t.size),
        chi2=chi2,
        dof=dof,
        p_value=p_value,
        n_independent=n_atoms * run_time / float(t[-1]),
        sigma_D_ols=sigma_slope_ols * to_cgs,
        sigma_D_model=float(np.sqrt(beta_cov_model[1, 1])) * to_cgs,
        covariance_kind="random-walk model" if cov_data is None else "data",
        status=verdict.status,
        verdict=verdict.verdict,
        D_upper=verdict.D_upper,
        D_upper_rule=verdict.D_upper_rule,
        run_longer_ps=verdict.run_longer_ps,
        n_hops=verdict.n_hops,
        slope_end=slope,
        sigma_slope_end=sigma_slope,
        hop_length=float(hop_length),
        covariance=beta_cov,
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
        Lag times of the MSD (ps), :attr:`~interfacial.analysis.msd.MSDResult.lag_times`.
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
