"""Synthetic-trajectory checks of the tracer-diffusion analysis: every answer is known exactly."""

from __future__ import annotations

import numpy as np
import pytest

from interfacial.analysis.arrhenius import BOLTZMANN_MEV_PER_K, arrhenius
from interfacial.analysis.diffusivity import (
    A2_PER_PS_TO_CM2_PER_S,
    msd_covariance,
    tracer_diffusivity,
)
from interfacial.analysis.msd import (
    COMPONENT_DIMENSION,
    MSDResult,
    StreamingMSD,
    Unwrapper,
    minimum_image_displacement,
    msd_lag_grid,
)

DT = 0.1  # ps between frames


def random_walk(
    rng: np.random.Generator, n_atoms: int, n_steps: int, d_xyz: tuple[float, float, float]
) -> np.ndarray:
    """Gaussian walk, shape (n_steps + 1, n_atoms, 3): step variance 2 D dt per axis (A^2/ps)."""
    sd = np.sqrt(2.0 * np.asarray(d_xyz) * DT)
    steps = rng.normal(size=(n_steps, n_atoms, 3)) * sd
    start = rng.uniform(0.0, 10.0, size=(1, n_atoms, 3))
    return np.concatenate([start, start + np.cumsum(steps, axis=0)])


def stream(
    traj: np.ndarray, groups: dict[str, list[int]], max_lag: int, origin_interval: int = 1
) -> MSDResult:
    msd = StreamingMSD(groups, max_lag=max_lag, origin_interval=origin_interval)
    for k, frame in enumerate(traj):
        msd.add_frame(frame, k * DT)
    return msd.result()


def com_factor(n: int) -> float:
    # Removing the centre of mass of N identical independent walkers scales the MSD by 1 - 1/N.
    return 1.0 - 1.0 / n


# ---------------------------------------------------------------------------------- unwrapping


def test_unwrapping_a_wrapped_walk_recovers_positions_and_d() -> None:
    rng = np.random.default_rng(1)
    d_true = 1.0  # A^2/ps: ~0.45 A per step, the walkers cross the 8 A box many times
    traj = random_walk(rng, 100, 600, (d_true,) * 3)
    cell = np.diag([8.0, 8.0, 9.0])
    unwrap = Unwrapper()
    msd = StreamingMSD({"all": list(range(100))}, max_lag=100, origin_interval=5)
    for k, frame in enumerate(traj):
        frac = (frame @ np.linalg.inv(cell)) % 1.0
        positions = unwrap(frac, cell)
        msd.add_frame(positions, k * DT)
    # Unwrapped positions equal the true ones up to the lattice translation of frame 0.
    shift = positions - traj[-1]
    assert np.allclose(shift, traj[0] % np.diag(cell) - traj[0], atol=1e-9)
    fit = msd.result().diffusivity("all", "total", (2.0, 10.0))
    expected = d_true * com_factor(100) * A2_PER_PS_TO_CM2_PER_S
    assert abs(fit.D - expected) < 4 * fit.sigma_D
    assert abs(fit.D / expected - 1.0) < 0.1
    assert np.abs(traj[-1] - traj[0]).max() > 3 * 8.0  # the test really crossed boundaries


def test_minimum_image_in_a_triclinic_and_changing_cell() -> None:
    cell = np.array([[5.0, 0.0, 0.0], [2.0, 5.0, 0.0], [0.5, 0.5, 6.0]])
    rng = np.random.default_rng(2)
    r0 = rng.uniform(0, 4, size=(10, 3))
    step = rng.normal(scale=0.3, size=(10, 3))
    frac0 = (r0 @ np.linalg.inv(cell)) % 1.0
    frac1 = ((r0 + step) @ np.linalg.inv(cell)) % 1.0
    assert np.allclose(minimum_image_displacement(frac0, frac1, cell), step)
    # NPT: the displacement uses the wrapped Cartesian positions of each frame (toroidal
    # scheme), not the fractional displacement scaled by the new cell.
    bigger = cell * 1.01
    w0 = frac0 @ cell
    frac1b = ((w0 + step) @ np.linalg.inv(bigger)) % 1.0
    assert np.allclose(minimum_image_displacement(frac0, frac1b, cell, bigger), step)


def test_unwrapper_rejects_atom_count_change() -> None:
    unwrap = Unwrapper()
    unwrap(np.zeros((3, 3)), np.eye(3))
    with pytest.raises(ValueError, match="atom count"):
        unwrap(np.zeros((4, 3)), np.eye(3))
    with pytest.raises(ValueError, match="singular"):
        Unwrapper()(np.zeros((3, 3)), np.zeros((3, 3)))


# ------------------------------------------------------------------------------ streaming MSD


def test_anisotropic_walk_in_plane_and_out_of_plane() -> None:
    rng = np.random.default_rng(3)
    d_in, d_out = 0.5, 0.05
    n = 200
    res = stream(random_walk(rng, n, 800, (d_in, d_in, d_out)), {"Li": list(range(n))}, 100, 2)
    for component, d_true in (("in-plane", d_in), ("out-of-plane", d_out), ("z", d_out)):
        fit = res.diffusivity("Li", component, (1.0, 10.0))
        expected = d_true * com_factor(n) * A2_PER_PS_TO_CM2_PER_S
        assert fit.dimension == COMPONENT_DIMENSION[component]
        assert abs(fit.D - expected) < 4 * fit.sigma_D, component
        assert abs(fit.D / expected - 1.0) < 0.1, component
        assert fit.converged
    # Components add up: total = in-plane + out-of-plane, in-plane = x + y.
    msd = res.msd["Li"]
    assert np.allclose(msd["total"], msd["in-plane"] + msd["out-of-plane"])
    assert np.allclose(msd["in-plane"], msd["x"] + msd["y"])


def test_uniform_drift_is_removed() -> None:
    rng = np.random.default_rng(4)
    traj = random_walk(rng, 30, 200, (0.2, 0.2, 0.2))
    drift = np.arange(traj.shape[0])[:, None, None] * np.array([0.3, -0.1, 0.5])
    groups = {"a": list(range(30))}
    plain = stream(traj, groups, 50)
    drifted = stream(traj + drift, groups, 50)
    for comp in COMPONENT_DIMENSION:
        assert np.allclose(plain.msd["a"][comp], drifted.msd["a"][comp], rtol=1e-9, atol=1e-9)


def test_mass_weighted_drift_of_a_heavy_host_leaves_light_walkers_alone() -> None:
    # A static, very heavy host pins the centre of mass: Li MSD is then not scaled by 1 - 1/N.
    rng = np.random.default_rng(5)
    n_li, n_host = 50, 50
    li = random_walk(rng, n_li, 400, (0.3, 0.3, 0.3))
    host = np.broadcast_to(rng.uniform(0, 10, (1, n_host, 3)), (li.shape[0], n_host, 3))
    traj = np.concatenate([li, host], axis=1)
    masses = [6.94] * n_li + [1e6] * n_host
    msd = StreamingMSD({"Li": list(range(n_li))}, max_lag=80, masses=masses)
    for k, frame in enumerate(traj):
        msd.add_frame(frame, k * DT)
    fit = msd.result().diffusivity("Li", "total", (1.0, 8.0))
    assert abs(fit.D - 0.3e-4) < 4 * fit.sigma_D


def test_two_groups_with_different_d() -> None:
    rng = np.random.default_rng(6)
    fast = random_walk(rng, 100, 600, (0.8, 0.8, 0.8))
    slow = random_walk(rng, 100, 600, (0.1, 0.1, 0.1))
    traj = np.concatenate([fast, slow], axis=1)
    groups = {
        "Li metal": list(range(100)),
        "Li compound": list(range(100, 200)),
        "Li": list(range(200)),
    }
    res = stream(traj, groups, 100, 2)
    n = 200
    for group, d_true in (("Li metal", 0.8), ("Li compound", 0.1), ("Li", 0.45)):
        fit = res.diffusivity(group, "total", (1.0, 10.0))
        expected = d_true * com_factor(n) * 1e-4
        # The COM of mixed walkers shifts each group slightly differently; 4 sigma covers it.
        assert abs(fit.D - expected) < 4 * fit.sigma_D + 0.01 * expected, group
    assert res.n_atoms == {"Li metal": 100, "Li compound": 100, "Li": 200}


def test_memory_is_bounded_and_counts_are_exact() -> None:
    rng = np.random.default_rng(7)
    traj = random_walk(rng, 5, 1000, (0.1, 0.1, 0.1))
    msd = StreamingMSD({"a": [0, 1, 2, 3, 4]}, max_lag=40, origin_interval=4)
    stored = []
    for k, frame in enumerate(traj):
        msd.add_frame(frame, k * DT)
        stored.append(msd.n_stored_origins)
    assert max(stored) == 40 // 4 + 1
    assert stored[100] == stored[-1]  # flat after the first max_lag frames
    res = msd.result()
    # Origins at frames 0, 4, ..., 1000 (251 of them) reach lag k if origin + k <= 1000.
    lags = np.arange(41)
    expected_origins = (1000 - lags) // 4 + 1
    assert np.array_equal(res.n_origins, expected_origins)
    assert np.array_equal(res.n_samples["a"], 5 * expected_origins)
    assert np.allclose(res.lag_times, lags * DT)
    assert res.origin_spacing == pytest.approx(4 * DT)


def test_streaming_matches_direct_all_origins_msd() -> None:
    rng = np.random.default_rng(8)
    traj = random_walk(rng, 7, 60, (0.2, 0.3, 0.4))
    res = stream(traj, {"a": [1, 3, 5]}, 20, 3)
    com = traj.mean(axis=1)
    for k in (1, 7, 20):
        origins = np.arange(0, 61 - k, 3)
        disp = traj[origins + k][:, [1, 3, 5]] - traj[origins][:, [1, 3, 5]]
        disp -= (com[origins + k] - com[origins])[:, None, :]
        assert res.msd["a"]["total"][k] == pytest.approx((disp**2).sum(axis=2).mean())
        assert res.msd["a"]["z"][k] == pytest.approx((disp[..., 2] ** 2).mean())


def test_lag_grid_is_dense_then_evenly_spaced() -> None:
    assert np.array_equal(msd_lag_grid(10, dense=3, spaced=4), [0, 1, 2, 3, 6, 9, 10])
    assert np.array_equal(msd_lag_grid(5, dense=64, spaced=400), np.arange(6))
    grid = msd_lag_grid(5000)
    assert grid[0] == 0 and grid[-1] == 5000 and np.array_equal(grid[:65], np.arange(65))
    assert grid.size <= 64 + 400 + 2 and set(np.diff(grid[65:-1])) == {13}


@pytest.mark.parametrize(("n_frames", "tail"), [(90, False), (30, True)])
def test_grid_lags_match_direct_all_origins_msd(n_frames: int, tail: bool) -> None:
    # A grid of lags 0, 1, 2, 5, 10, ...: every origin that reaches a grid lag is averaged
    # there. A run shorter than max_lag also keeps its last lag (reached by origin 0 alone).
    rng = np.random.default_rng(9)
    traj = random_walk(rng, 6, n_frames - 1, (0.2, 0.3, 0.4))
    acc = StreamingMSD(
        {"a": [0, 2, 5]},
        max_lag=40,
        origin_interval=3,
        dense_lags=2,
        spaced_lags=8,
        moment_origins=4,
    )
    for k, frame in enumerate(traj):
        acc.add_frame(frame, k * DT)
    res = acc.result()
    assert res.lag_frames is not None and res.fourth_moment is not None
    assert res.fourth_moment_samples is not None
    expected_lags = [0, 1, 2, 5, 10, 15, 20, 25] + ([29] if tail else [30, 35, 40])
    assert res.lag_frames.tolist() == expected_lags
    com = traj.mean(axis=1)
    stride = acc.moment_origin_stride
    for i, k in enumerate(expected_lags):
        origins = np.arange(0, n_frames - k, 3)
        disp = traj[origins + k][:, [0, 2, 5]] - traj[origins][:, [0, 2, 5]]
        disp -= (com[origins + k] - com[origins])[:, None, :]
        q = (disp**2).sum(axis=2)
        assert res.n_origins[i] == origins.size
        assert res.lag_times[i] == pytest.approx(k * DT)
        assert res.msd["a"]["total"][i] == pytest.approx(q.mean(), abs=1e-12)
        moment = origins % stride == 0
        if tail and k == 29:
            assert res.fourth_moment_samples["a"][i] == 0  # the tail carries no moments
        else:
            assert res.fourth_moment_samples["a"][i] == 3 * moment.sum()
            assert res.fourth_moment["a"]["total"][i] == pytest.approx((q[moment] ** 2).mean())


# ----------------------------------------------------------------------------- GLS diffusivity


def test_covariance_model_limits() -> None:
    d, n = 0.3, 10
    # Sparse origins (spacing >= lag): independent samples, var = 2 (2 d D t)^2 / (d N n_orig).
    cov = msd_covariance([1.0, 2.0], [5, 5], 10.0, n, 3, d)
    assert cov[0, 0] == pytest.approx(2 * (6 * d * 1.0) ** 2 / (3 * n * 5))
    # Same origins, windows [0, 1] and [0, 2] share 1 ps: 2 d (2D)^2 * 1^2 / (N n_orig).
    assert cov[0, 1] == pytest.approx(2 * 3 * (2 * d) ** 2 / (n * 5))
    assert msd_covariance([1.0, 2.0], [5, 5], 10.0, n, 3, d)[1, 1] == pytest.approx(4 * cov[0, 0])
    # Dense origins in a long run: 8 d D^2 (t_i^2 t_j - t_i^3 / 3) / (N T), t_i <= t_j.
    spacing, run = 0.01, 2000.0
    t = np.array([1.0, 3.0])
    n_orig = np.round((run - t) / spacing).astype(int) + 1
    cov = msd_covariance(t, n_orig, spacing, n, 1, d)
    asym = 8 * d**2 * (t[0] ** 2 * t[1] - t[0] ** 3 / 3) / (n * run)
    assert cov[0, 1] == pytest.approx(asym, rel=0.01)


def test_gls_error_is_honest_over_independent_runs() -> None:
    rng = np.random.default_rng(2024)
    d_true, n, n_runs = 0.2, 20, 50
    expected = d_true * com_factor(n) * A2_PER_PS_TO_CM2_PER_S
    z, ratio = [], []
    for _ in range(n_runs):
        res = stream(random_walk(rng, n, 400, (d_true,) * 3), {"Li": list(range(n))}, 100)
        fit = res.diffusivity("Li", "total", (1.0, 10.0))
        z.append((fit.D - expected) / fit.sigma_D)
        ratio.append(fit.sigma_D / fit.sigma_D_ols)
    z_arr = np.asarray(z)
    # 50 draws of a unit normal: mean within ~3/sqrt(50), std within ~3/sqrt(100) of 1.
    assert abs(z_arr.mean()) < 0.45
    assert 0.7 < z_arr.std(ddof=1) < 1.35
    # OLS treats 90 overlapping points as independent: its error is far too small.
    assert min(ratio) > 1.0
    assert np.median(ratio) > 2.0


def test_fit_window_errors() -> None:
    rng = np.random.default_rng(9)
    res = stream(random_walk(rng, 10, 100, (0.1, 0.1, 0.1)), {"a": list(range(10))}, 30)
    with pytest.raises(ValueError, match="longer than the run"):
        res.diffusivity("a", "total", (1.0, 50.0))
    with pytest.raises(ValueError, match="empty fit window"):
        res.diffusivity("a", "total", (2.0, 2.0))
    with pytest.raises(ValueError, match="at least 3"):
        res.diffusivity("a", "total", (1.0, 1.1))
    with pytest.raises(ValueError, match="dimension"):
        tracer_diffusivity(
            res.lag_times, res.msd["a"]["x"], res.n_samples["a"], 4, (1.0, 2.0),
            n_atoms=10, origin_spacing=DT,
        )  # fmt: skip
    with pytest.raises(ValueError, match="differ in length"):
        tracer_diffusivity(
            res.lag_times, res.msd["a"]["x"][:-1], res.n_samples["a"], 1, (1.0, 2.0),
            n_atoms=10, origin_spacing=DT,
        )  # fmt: skip
    with pytest.raises(KeyError):
        res.diffusivity("nope", "total", (1.0, 2.0))


# ----------------------------------------------------------------------------- MSD bad inputs


def test_streaming_msd_bad_inputs() -> None:
    with pytest.raises(ValueError, match="no atoms"):
        StreamingMSD({"Li": []}, max_lag=10)
    with pytest.raises(ValueError, match="max_lag"):
        StreamingMSD({"Li": [0]}, max_lag=0)
    msd = StreamingMSD({"Li": [0, 1]}, max_lag=10)
    with pytest.raises(ValueError, match="at least 2 frames"):
        msd.result()
    msd.add_frame(np.zeros((3, 3)), 0.0)
    with pytest.raises(ValueError, match="at least 2 frames"):
        msd.result()
    with pytest.raises(ValueError, match="inconsistent atom count"):
        msd.add_frame(np.zeros((4, 3)), 0.1)
    with pytest.raises(ValueError, match="increase strictly"):
        msd.add_frame(np.zeros((3, 3)), 0.0)
    with pytest.raises(ValueError, match="refers to atom"):
        StreamingMSD({"Li": [5]}, max_lag=10).add_frame(np.zeros((3, 3)), 0.0)
    with pytest.raises(ValueError, match="masses"):
        StreamingMSD({"Li": [0]}, max_lag=10, masses=[1.0]).add_frame(np.zeros((3, 3)), 0.0)


# ---------------------------------------------------------------------------------- Arrhenius


def test_arrhenius_recovers_exact_parameters() -> None:
    ea, d0 = 350.0, 2.0e-3  # meV, cm^2/s
    temps = np.arange(300.0, 1001.0, 100.0)
    d = d0 * np.exp(-ea / (BOLTZMANN_MEV_PER_K * temps))
    fit = arrhenius(temps, d, 0.05 * d)
    assert fit.Ea == pytest.approx(ea, rel=1e-9)
    assert abs(fit.D0 / d0 - 1.0) < 1e-9
    assert fit.chi2 == pytest.approx(0.0, abs=1e-12)
    assert fit.dof == temps.size - 2
    assert fit.covariance.shape == (2, 2)
    # Error propagation: sigma_lnD = 0.05 everywhere gives the textbook unweighted-fit errors.
    x = 1.0 / (BOLTZMANN_MEV_PER_K * temps)
    assert fit.sigma_Ea == pytest.approx(0.05 / np.sqrt(((x - x.mean()) ** 2).sum()))
    assert fit.sigma_D0 == pytest.approx(fit.D0 * fit.sigma_ln_D0)


def test_arrhenius_two_points_and_weights() -> None:
    temps = np.array([500.0, 800.0])
    d = np.array([1e-7, 1e-5])
    fit = arrhenius(temps, d, [1e-8, 1e-6])
    slope = np.log(d[1] / d[0]) / (1 / temps[0] - 1 / temps[1])
    assert fit.Ea == pytest.approx(slope * BOLTZMANN_MEV_PER_K)
    # Doubling every relative error doubles sigma_Ea.
    assert arrhenius(temps, d, [2e-8, 2e-6]).sigma_Ea == pytest.approx(2 * fit.sigma_Ea)


def test_arrhenius_bad_inputs() -> None:
    with pytest.raises(ValueError, match="at least 2"):
        arrhenius([300.0], [1e-6], [1e-7])
    with pytest.raises(ValueError, match="at least 2"):
        arrhenius([300.0, 300.0], [1e-6, 2e-6], [1e-7, 1e-7])
    with pytest.raises(ValueError, match="D must be positive"):
        arrhenius([300.0, 400.0], [1e-6, 0.0], [1e-7, 1e-7])
    with pytest.raises(ValueError, match="D must be positive"):
        arrhenius([300.0, 400.0], [-1e-6, 1e-6], [1e-7, 1e-7])
    with pytest.raises(ValueError, match="sigma_D"):
        arrhenius([300.0, 400.0], [1e-6, 2e-6], [0.0, 1e-7])
    with pytest.raises(ValueError, match="differ in length"):
        arrhenius([300.0, 400.0], [1e-6], [1e-7])


def test_ions_that_only_vibrate_are_caged_with_an_upper_bound() -> None:
    """Caged ions (D = 0): status "caged" and an upper bound from the MSD plateau.

    Behaviour changed from the Birge rule (D consistent with zero under a widened error): the
    verdict no longer rests on chi2, and D* of a plateau is reported as a bound.
    """
    rng = np.random.default_rng(77)
    n, frames, sigma = 32, 400, 0.15
    sites = rng.uniform(0, 10, size=(n, 3))
    positions = sites[None] + rng.normal(scale=sigma, size=(frames, n, 3))  # thermal rattling
    msd = StreamingMSD({"S": range(n)}, max_lag=frames // 2, origin_interval=5)
    for i, frame in enumerate(positions):
        msd.add_frame(frame, 0.1 * i)
    fit = msd.result().diffusivity("S", "total", (2.0, 20.0))
    assert fit.status == "caged"
    assert not fit.converged
    # Plateau of |n1 - n0|^2 for independent Gaussian positions: 2 * 3 sigma^2 (drift removal
    # scales it by 1 - 1/N); the bound is that over 2 d t_end plus at most a few percent.
    plateau = 6 * sigma**2 * (1 - 1 / n)
    floor = plateau / (2 * 3 * 20.0) * A2_PER_PS_TO_CM2_PER_S
    assert fit.D_upper is not None
    assert floor * 0.95 < fit.D_upper < floor * 1.3
    assert abs(fit.slope_end) < 0.3  # flat MSD
