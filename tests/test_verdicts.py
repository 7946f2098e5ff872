"""The D* verdict: fourth moments, data covariance, diffusive window, statuses, Arrhenius.

Oracles are closed forms (Gaussian and compound-Poisson moments, the tracer correlation factor
of back-hopping lattice walkers), synthetic runs with known D, and a public AIMD trajectory.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest

from interfacial.analysis.diffusivity import (
    data_covariance,
    msd_covariance,
    squared_displacement_variance,
    variance_ratio,
)
from interfacial.analysis.msd import StreamingMSD
from interfacial.analysis.regime import alpha2_null_error, non_gaussian_parameter
from interfacial.analysis.synthetic import caged, combine, lattice_hops, random_walk
from interfacial.diffusion import arrhenius_documents, diffusion_document, fit_diffusivities
from interfacial.schemas.diffusion import DiffusionDocument, MSDCurves

REFERENCE = Path(__file__).parent / "reference" / "aimd" / "Li6PS5Cl_50p_run1_XDATCAR.gz"

#: kinisi 2.1.0 on the reference file (an independent Bayesian estimate): Li, "total"
#: (dimension "xyz"), time_step 2 fs, step_skip 50, diffusion from 2 ps; the median of D and half
#: its central 68 % interval, cm^2/s (benchmarks/bench_public_aimd.py; two seeds agreed to 1 %).
KINISI_LI_TOTAL_D = 1.361e-5
KINISI_LI_TOTAL_SIGMA = 7.53e-7


def document(traj, name: str = "synthetic") -> DiffusionDocument:
    return diffusion_document(
        traj.frames(), traj.groups(), system=name, temperature=300.0, source="trajectory"
    )


# ----------------------------------------------------------------------------- fourth moments


def test_fourth_moments_match_a_direct_computation() -> None:
    rng = np.random.default_rng(1)
    traj = rng.normal(size=(41, 6, 3)).cumsum(axis=0)
    acc = StreamingMSD({"a": [0, 2, 4]}, max_lag=12, origin_interval=2, moment_origins=3)
    for k, frame in enumerate(traj):
        acc.add_frame(frame, 0.1 * k)
    res = acc.result()
    assert res.fourth_moment is not None and res.fourth_moment_samples is not None
    assert res.fourth_moment_msd is not None
    stride = acc.moment_origin_stride
    assert stride % 2 == 0 and np.array_equal(acc.lags, np.arange(13))  # every lag on the grid
    com = traj.mean(axis=1)
    for lag in (1, 5, 12):
        origins = np.arange(0, 41 - lag, stride)
        disp = traj[origins + lag][:, [0, 2, 4]] - traj[origins][:, [0, 2, 4]]
        disp -= (com[origins + lag] - com[origins])[:, None, :]
        q_total = (disp**2).sum(axis=2)
        q_plane = (disp[..., :2] ** 2).sum(axis=2)
        assert res.fourth_moment_samples["a"][lag] == 3 * origins.size
        assert res.fourth_moment["a"]["total"][lag] == pytest.approx((q_total**2).mean())
        assert res.fourth_moment["a"]["in-plane"][lag] == pytest.approx((q_plane**2).mean())
        assert res.fourth_moment_msd["a"]["total"][lag] == pytest.approx(q_total.mean())


def test_alpha2_of_a_gaussian_walk_is_zero_within_its_error() -> None:
    traj = random_walk(n_atoms=200, n_frames=300, seed=2)
    res = document(traj).msd.group("Li")
    assert res.fourth_moment is not None and res.fourth_moment_samples is not None
    assert res.fourth_moment_msd is not None
    alpha = non_gaussian_parameter(
        res.fourth_moment_msd["total"], res.fourth_moment["total"], 3, res.fourth_moment_samples
    )
    # Lags 1-10 frames: independent origins in the subset -> n = samples.
    samples = np.asarray(res.fourth_moment_samples[1:11], dtype=float)
    err = alpha2_null_error(3, samples)
    assert np.all(np.abs(alpha[1:11]) < 4 * err)
    assert err[0] == pytest.approx(0.7303 / np.sqrt(samples[0]), rel=1e-3)  # closed form


def test_kappa_of_uncorrelated_hops_follows_the_compound_poisson_law() -> None:
    # Poisson hops of length a at rate G, no vibration: M2 = G t a^2,
    # M4 = a^4 [G t + (1 + 2/d) (G t)^2]  =>  kappa = 1 + d / (2 G t) (d = 3).
    rate = 2.0
    traj = lattice_hops(n_atoms=400, n_frames=200, rate=rate, reversal=0.0, vibration=0.0, seed=3)
    g = document(traj).msd.group("Li")
    assert g.fourth_moment is not None and g.fourth_moment_msd is not None
    kappa = variance_ratio(
        g.fourth_moment_msd["total"], g.fourth_moment["total"], 3, g.fourth_moment_samples
    )
    t = np.asarray(document(traj).msd.lag_times)
    for lag in (1, 3, 10):
        assert kappa[lag] == pytest.approx(1 + 3 / (2 * rate * t[lag]), rel=0.15)
    assert np.all(kappa[1:20] > 1.2)


def test_data_covariance_is_the_model_for_a_gaussian_variance_law() -> None:
    d, n_atoms, dim = 0.3, 10, 3
    t = np.array([1.0, 2.0, 5.0])
    n_orig = np.array([40, 38, 35])
    lags = np.linspace(0.1, 6.0, 60)
    var = 2 * dim * (2 * d * lags) ** 2  # Var |dr|^2 of a Gaussian walker
    model = msd_covariance(t, n_orig, 0.1, n_atoms, dim, d)
    data = data_covariance(t, n_orig, 0.1, n_atoms, lags, var)
    assert np.allclose(data, model, rtol=1e-6)
    # Heavier tails (c1 l term) only add: the error grows.
    heavy = data_covariance(t, n_orig, 0.1, n_atoms, lags, var + 5.0 * lags)
    assert np.all(np.diag(heavy) > np.diag(model))
    assert np.all(np.linalg.eigvalsh(heavy) > -1e-12 * heavy.max())


# ------------------------------------------------------------------------------- statuses


def test_random_walk_is_diffusive_and_caged_ions_are_caged() -> None:
    traj = combine(random_walk(seed=4), caged(seed=5))
    doc = document(traj)
    li = doc.diffusivity("Li", "total")
    assert li.status == "diffusive" and li.converged and li.covariance == "data"
    assert abs(li.D - traj.expected_D["Li"]) < 3 * li.sigma_D
    s = doc.diffusivity("S", "total")
    assert s.status == "caged" and not s.converged
    # Bound from the plateau 2 d sigma^2 = 0.54 A^2 over 2 d t_end (20 ps): ~4.5e-7 cm^2/s.
    assert s.D_upper is not None and 3e-7 < s.D_upper < 1e-6
    assert "caged" in (s.verdict or "")


def test_a_short_run_is_too_short_and_says_how_much_longer() -> None:
    traj = random_walk(n_atoms=8, n_frames=60, diffusivity=0.02, seed=6)
    rec = document(traj).diffusivity("Li", "total")
    assert rec.status == "too short"
    # n_hops = N 6 D T / a^2 = 8 * 6 * 0.02 * 5.9 / 6.25 ~ 0.9: about 100x longer needed.
    assert rec.n_hops is not None and 0.4 < rec.n_hops < 2.0
    assert rec.run_longer_ps is not None and rec.run_longer_ps > 100


def test_lattice_hops_give_the_correlated_d_within_error() -> None:
    # D = G a^2 f / 6 with f = (1 - p) / (1 + p); uncorrelated hops would give 1.9x more.
    traj = lattice_hops(seed=7)
    rec = document(traj).diffusivity("Li", "total")
    want = traj.expected_D["Li"]
    assert want == pytest.approx(1.0 * 2.5**2 * (0.7 / 1.3) / 6 * 1e-4, rel=0.02)
    assert rec.status == "diffusive"
    assert abs(rec.D - want) < 3 * rec.sigma_D
    assert rec.sigma_D > rec.sigma_D_model  # heavier tails than a Gaussian walker


# ---------------------------------------------------------------------- old stored documents


def test_old_documents_without_fourth_moments_refit_with_the_model() -> None:
    doc = document(combine(random_walk(seed=8), caged(seed=9)))
    stored = doc.model_dump(mode="json")
    for group in stored["msd"]["groups"]:
        for key in ("fourth_moment", "fourth_moment_msd", "fourth_moment_samples"):
            del group[key]
    for rec in stored["diffusivities"]:
        for key in ("covariance", "status", "verdict", "D_upper", "window_rule"):
            rec.pop(key)
    old = DiffusionDocument.model_validate(stored)
    assert not old.msd.groups[0].has_moments
    assert old.diffusivities[0].state in {"diffusive", "unconverged"}
    _, records = fit_diffusivities(old.msd)
    li = next(r for r in records if r.group == "Li" and r.component == "total")
    assert li.covariance == "random-walk model"
    assert li.status == "diffusive"


# ------------------------------------------------------------------------------- Arrhenius


def _doc_at(temperature: float, status: str, d: float, upper: float | None) -> DiffusionDocument:
    base = document(random_walk(n_atoms=16, n_frames=80, seed=int(temperature)))
    rec = base.diffusivity("Li", "total").model_copy(
        update={"status": status, "D": d, "sigma_D": 0.1 * d, "D_upper": upper}
    )
    return base.model_copy(
        update={
            "temperature": temperature,
            "diffusion_id": DiffusionDocument.make_id("x", None, temperature),
            "system": "x",
            "diffusivities": [rec],
            "last_updated": datetime.now(UTC) - timedelta(seconds=temperature),
        }
    )


def test_arrhenius_uses_diffusive_temperatures_only() -> None:
    docs = [
        _doc_at(600.0, "caged", 1e-9, 2e-9),
        _doc_at(700.0, "too short", 3e-7, 5e-7),
        _doc_at(800.0, "diffusive", 1e-6, None),
        _doc_at(1000.0, "diffusive", 1e-5, None),
    ]
    (fit,) = arrhenius_documents(docs)
    assert fit.temperatures == [800.0, 1000.0]
    reasons = [x["reason"] for x in fit.excluded]
    assert reasons[0] == "caged at 600 K: D* < 2e-09 cm^2/s"
    assert reasons[1].startswith("too short at 700 K")
    # Two points: Ea = kB ln(D2/D1) / (1/T1 - 1/T2) exactly.
    want = 8.617333262e-2 * np.log(10) / (1 / 800 - 1 / 1000)
    assert fit.Ea == pytest.approx(want)


def test_arrhenius_without_two_diffusive_temperatures_gives_an_upper_bound() -> None:
    docs = [_doc_at(600.0, "caged", 1e-9, 2e-9), _doc_at(900.0, "caged", 4e-9, 7e-9)]
    (fit,) = arrhenius_documents(docs)
    assert fit.Ea is None
    assert fit.D_upper == pytest.approx(7e-9)
    assert fit.note is not None and "0 diffusive temperature(s)" in fit.note


# ------------------------------------------------------------------- public AIMD trajectory


@pytest.fixture(scope="module")
def argyrodite(tmp_path_factory: pytest.TempPathFactory) -> DiffusionDocument:
    from interfacial.trajectory import default_groups, iter_frames

    # Read as published: gzipped, streamed through the XDATCAR reader.
    frames = list(iter_frames(REFERENCE, time_step_fs=100.0))
    return diffusion_document(
        frames,
        default_groups(frames[0].symbols),
        system="Li6PS5Cl",
        temperature=500.0,
        source="trajectory",
    )


def test_public_argyrodite_li_is_diffusive_and_the_framework_is_not(
    argyrodite: DiffusionDocument,
) -> None:
    li = argyrodite.diffusivity("Li", "total")
    assert li.status == "diffusive"
    assert li.sigma_D / li.D < 0.15
    # Li6PS5Cl at 500 K in this run: D* ~ 1.5e-5 cm^2/s (MSD 6.7 A^2 at 7 ps).
    assert 1.0e-5 < li.D < 2.2e-5
    for group in ("S", "P", "Cl"):
        rec = argyrodite.diffusivity(group, "total")
        assert rec.status != "diffusive", group
        assert rec.D_upper is not None and rec.D_upper < 0.2 * li.D
    assert abs(li.D - KINISI_LI_TOTAL_D) < 2 * np.hypot(li.sigma_D, KINISI_LI_TOTAL_SIGMA)
    assert 0.5 < li.sigma_D / KINISI_LI_TOTAL_SIGMA < 2.0


def test_stored_curves_refit_to_the_same_verdict(argyrodite: DiffusionDocument) -> None:
    again = MSDCurves.model_validate(argyrodite.msd.model_dump(mode="json"))
    rule, records = fit_diffusivities(again, hop_length=argyrodite.hop_length)
    assert rule == argyrodite.fit_window_rule
    for mine, theirs in zip(records, argyrodite.diffusivities, strict=True):
        assert mine.status == theirs.status
        assert pytest.approx(theirs.D, rel=1e-9) == mine.D
        assert mine.sigma_D == pytest.approx(theirs.sigma_D, rel=1e-9)


def test_squared_displacement_variance_skips_unsampled_lags() -> None:
    var = squared_displacement_variance([1.0, 2.0, 3.0], [3.0, 12.0, 0.0], [5, 0, 5])
    assert var[0] == pytest.approx(2.0)
    assert np.isnan(var[1])
    assert var[2] == 0.0  # clipped at zero
