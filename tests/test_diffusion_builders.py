"""D* documents and Arrhenius fits through the builders, on synthetic walks with known answers."""

from __future__ import annotations

import numpy as np
import pytest
from maggma.stores import MemoryStore

from interfacial.analysis.arrhenius import BOLTZMANN_MEV_PER_K
from interfacial.analysis.msd import StreamingMSD
from interfacial.builders.diffusion import ArrheniusBuilder, DiffusionBuilder
from interfacial.diffusion import arrhenius_documents, check_fit_window, fit_diffusivities
from interfacial.errors import InterfacialError
from interfacial.schemas.diffusion import DiffusionDocument, MSDCurves
from interfacial.schemas.roles import Role

EA_MEV = 300.0
D0_A2_PS = 10.0  # 1e-3 cm^2/s
ANISOTROPY = 0.25  # out-of-plane D / in-plane D
TEMPERATURES = (600.0, 700.0, 800.0, 900.0, 1000.0)
DT_PS = 0.1


def true_d(temperature: float) -> float:
    """In-plane D (A^2/ps) of the synthetic Arrhenius law."""
    return D0_A2_PS * np.exp(-EA_MEV / (BOLTZMANN_MEV_PER_K * temperature))


def walk_curves(temperature: float, seed: int, n_atoms: int = 48, n_frames: int = 1500):
    """MSD curves of two groups of Gaussian walkers: 'fast' follows the law, 'slow' 10x slower."""
    rng = np.random.default_rng(seed)
    d_in = true_d(temperature)
    scale = np.sqrt(2 * DT_PS * np.array([d_in, d_in, ANISOTROPY * d_in]))
    steps = rng.normal(size=(n_frames, 2 * n_atoms, 3)) * scale
    steps[:, n_atoms:] /= np.sqrt(10.0)
    positions = (
        np.cumsum(steps, axis=0) + np.array([0.3, -0.2, 0.1]) * np.arange(n_frames)[:, None, None]
    )  # a uniform drift the MSD must remove
    msd = StreamingMSD(
        {"fast": range(n_atoms), "slow": range(n_atoms, 2 * n_atoms)},
        max_lag=n_frames // 2,
        origin_interval=5,
    )
    for i, frame in enumerate(positions):
        msd.add_frame(frame, i * DT_PS)
    return MSDCurves.from_result(msd.result())


def document(temperature: float, seed: int) -> DiffusionDocument:
    curves = walk_curves(temperature, seed)
    rule, records = fit_diffusivities(curves)
    return DiffusionDocument(
        diffusion_id=DiffusionDocument.make_id("walk", "abc123", temperature),
        system="walk",
        temperature=temperature,
        potential_sha256="abc123",
        species_order=["Li"],
        n_atoms=96,
        formula="Li96",
        msd=curves,
        fit_window_rule=rule,
        diffusivities=records,
    )


@pytest.fixture(scope="module")
def documents() -> list[DiffusionDocument]:
    return [document(t, seed) for seed, t in enumerate(TEMPERATURES)]


def test_d_per_group_and_component_within_error(documents: list[DiffusionDocument]) -> None:
    pulls = []
    for doc in documents:
        d_in = true_d(doc.temperature) * 1e-4  # cm^2/s
        for group, factor in (("fast", 1.0), ("slow", 0.1)):
            for comp, expected in (
                ("in-plane", d_in),
                ("out-of-plane", ANISOTROPY * d_in),
                ("total", (2 + ANISOTROPY) / 3 * d_in),
            ):
                rec = doc.diffusivity(group, comp)
                pulls.append((rec.D - factor * expected) / rec.sigma_D)
                assert rec.sigma_D < rec.D
    pulls_arr = np.abs(pulls)
    assert pulls_arr.max() < 4.5
    assert np.mean(pulls_arr < 2) > 0.8


def test_arrhenius_recovers_ea_and_d0(documents: list[DiffusionDocument]) -> None:
    fits = {(a.group, a.component): a for a in arrhenius_documents(documents)}
    assert len(fits) == 6
    fast = fits["fast", "in-plane"]
    assert fast.Ea is not None and fast.sigma_Ea is not None and fast.ln_D0 is not None
    assert fast.sigma_ln_D0 is not None
    assert abs(fast.Ea - EA_MEV) < 3.5 * fast.sigma_Ea
    assert abs(fast.ln_D0 - np.log(D0_A2_PS * 1e-4)) < 3.5 * fast.sigma_ln_D0
    assert fast.temperatures == list(TEMPERATURES)
    # Only diffusive temperatures enter (behaviour changed: every positive D* used to). A
    # temperature is diffusive when the run holds >= 100 hop-length (2.5 A) displacements,
    # N 6 D T / a^2 with the TRUE D of the law; far from that boundary the verdict must agree.
    run = (1500 - 1) * DT_PS
    for (group, comp), fit in fits.items():
        factor = (1.0 if group == "fast" else 0.1) * {
            "in-plane": 1.0,
            "out-of-plane": ANISOTROPY,
            "total": (2 + ANISOTROPY) / 3,
        }[comp]
        for temperature in TEMPERATURES:
            hops = 48 * 6 * factor * true_d(temperature) * run / 2.5**2
            if hops > 140:
                assert temperature in fit.temperatures, (group, comp, temperature)
            elif hops < 70:
                assert temperature not in fit.temperatures, (group, comp, temperature)
                why = next(x for x in fit.excluded if x["temperature"] == temperature)
                assert why["reason"].startswith(f"too short at {temperature:g} K")
        # Same Ea for every group and component of this law (to within errors).
        if len(fit.temperatures) >= 2:
            assert fit.Ea is not None and fit.sigma_Ea is not None
            assert abs(fit.Ea - EA_MEV) < 4 * fit.sigma_Ea
        else:
            assert fit.Ea is None and fit.note is not None and fit.D_upper is not None
    assert fits["slow", "out-of-plane"].Ea is None  # < 60 hops even at 1000 K


def test_arrhenius_excludes_non_positive_d(documents: list[DiffusionDocument]) -> None:
    broken = documents[0].model_copy(deep=True)
    rec = broken.diffusivity("fast", "in-plane")
    rec.D = -1e-7
    fits = arrhenius_documents([broken, documents[1]])
    fast = next(a for a in fits if a.group == "fast" and a.component == "in-plane")
    assert fast.Ea is None and fast.note is not None
    assert fast.excluded[0]["temperature"] == TEMPERATURES[0]


def test_fit_window_errors(documents: list[DiffusionDocument]) -> None:
    curves = documents[0].msd
    longest = curves.lag_times[-1]
    with pytest.raises(InterfacialError, match="only reaches"):
        check_fit_window((1.0, 10 * longest), curves)
    with pytest.raises(InterfacialError, match="reversed"):
        check_fit_window((5.0, 1.0), curves)
    with pytest.raises(InterfacialError, match="MSD points"):
        check_fit_window((1.0, 1.0 + 1e-3), curves)
    with pytest.raises(InterfacialError, match="unknown component"):
        fit_diffusivities(curves, None, ["sideways"])


#: The Arrhenius summary job of the transport flow "ladder" (hosts: the flows holding the job).
_SUMMARY = {
    "uuid": "summary",
    "index": 1,
    "completed_at": "2026-01-01T00:01:00",
    "hosts": ["ladder"],
    "metadata": {"interfacial": {"role": Role.ARRHENIUS_SUMMARY.value, "system": "walk"}},
    "output": [],
}


def _task(doc: DiffusionDocument, uuid: str, fit_window: list[float] | None = None) -> dict:
    return {
        "uuid": uuid,
        "index": 1,
        "completed_at": f"2026-01-01T00:00:{int(doc.temperature) % 60:02d}",
        "hosts": ["ladder"],
        "metadata": {
            "interfacial": {
                "role": Role.DIFFUSION_MD.value,
                "system": doc.system,
                "temperature": doc.temperature,
                "fit_window": fit_window,
            }
        },
        "output": doc.model_dump(),
    }


def test_builders_incremental_and_idempotent(documents: list[DiffusionDocument]) -> None:
    tasks = MemoryStore(key="uuid")
    diffusion = MemoryStore(key="diffusion_id")
    arrhenius = MemoryStore(key="arrhenius_id")
    tasks.connect()
    tasks.update([_task(d, f"u{i}") for i, d in enumerate(documents)], key="uuid")
    tasks.update([_SUMMARY], key="uuid")  # the ladder finished: its summary job is stored

    def run(builder) -> int:
        builder.connect()
        items = [builder.process_item(i) for i in builder.get_items()]
        builder.update_targets(items)
        return len(items)

    assert run(DiffusionBuilder(tasks, diffusion)) == len(TEMPERATURES)
    assert run(ArrheniusBuilder(diffusion, arrhenius)) == 1
    assert arrhenius.count() == 6
    built = diffusion.query_one({"temperature": 800.0})
    expected = documents[2].diffusivity("fast", "in-plane")
    got = next(
        r for r in built["diffusivities"] if r["group"] == "fast" and r["component"] == "in-plane"
    )
    assert got["D"] == pytest.approx(expected.D, rel=1e-12)
    fast = arrhenius.query_one({"group": "fast", "component": "in-plane"})
    assert abs(fast["Ea"] - EA_MEV) < 3.5 * fast["sigma_Ea"]

    # Nothing changed: nothing rebuilt.
    assert run(DiffusionBuilder(tasks, diffusion)) == 0
    assert run(ArrheniusBuilder(diffusion, arrhenius)) == 0

    # A user-chosen fit window on one task rebuilds exactly that temperature, then the fits.
    tasks.update([_task(documents[2], "u2", fit_window=[2.0, 30.0])], key="uuid")
    assert run(DiffusionBuilder(tasks, diffusion)) == 1
    rebuilt = diffusion.query_one({"temperature": 800.0})
    window = rebuilt["diffusivities"][0]["fit_window"]
    assert window[0] >= 2.0 - 1e-9 and window[1] <= 30.0 + 1e-9
    assert rebuilt["fit_window_rule"].startswith("user")
    assert run(ArrheniusBuilder(diffusion, arrhenius)) == 1
    assert arrhenius.count() == 6
