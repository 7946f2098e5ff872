"""Reference MD: vacancies, supercells, the NVT loop, documents and the data store, VASP inputs."""

from __future__ import annotations

import warnings
from functools import cache
from pathlib import Path

import numpy as np
import pytest
from jobflow import Flow, JobStore, run_locally
from maggma.stores import MemoryStore
from pymatgen.core import Lattice, Structure
from pymatgen.core.trajectory import Trajectory

from interfacial.ase_md import run_nvt
from interfacial.conventions import species_order
from interfacial.errors import InterfacialError
from interfacial.flows.reference_md import ReferenceMDMaker
from interfacial.forcefields.md import ForceFieldMDRunMaker, ForceFieldReferenceMDMaker
from interfacial.mtp.cfg import read_cfg, write_cfg
from interfacial.schemas.reference_md import MDSnapshots
from interfacial.structures.defects import (
    interface_planes,
    interface_region_indices,
    remove_ions,
    study_supercell,
    supercell_repeats,
)
from interfacial.structures.library import load_structure
from interfacial.vasp.flows import VaspReferenceMDMaker
from interfacial.vasp.md import KBAR_TO_ASE_STRESS, snapshots_from_trajectory

# ---------------------------------------------------------------------------------------------
# Supercells and vacancies
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "target", "repeats"),
    [("Li", 128, [4, 4, 4]), ("Li2S", 96, [2, 2, 2]), ("Li3P", 216, [3, 3, 3])],
)
def test_study_supercells(name, target, repeats):
    bulk = load_structure(name)
    assert supercell_repeats(bulk, target) == repeats
    assert len(study_supercell(bulk, target)) == target


def test_supercell_target_below_the_cell_is_refused():
    with pytest.raises(InterfacialError, match="below"):
        study_supercell(load_structure("Li2S"), 5)


def test_remove_ions_counts_charge_and_seed():
    cell = study_supercell(load_structure("Li2S"), 96)
    one = remove_ions(cell, "Li", count=1, seed=3)
    assert len(one) == 95
    assert one.composition["Li"] == 63
    assert one.composition["S"] == 32
    assert one.charge == -1  # Li+ removed, its electron stays: NELECT + 1 in VASP
    assert cell.charge == 0 and len(cell) == 96  # input untouched
    # Same seed, same sites; another seed, (here) other sites.
    again = remove_ions(cell, "Li", count=3, seed=7)
    assert np.allclose(again.cart_coords, remove_ions(cell, "Li", count=3, seed=7).cart_coords)
    other = remove_ions(cell, "Li", count=3, seed=8)
    assert not np.allclose(again.cart_coords, other.cart_coords)
    # Fraction: round(0.02 x 64) = 1; at least one for a tiny fraction.
    assert len(remove_ions(cell, "Li", fraction=0.02)) == 95
    assert len(remove_ions(cell, "Li", fraction=0.001)) == 95
    assert len(remove_ions(cell, "Li", fraction=0.5)) == 64
    # A sulfide ion (S2-) leaves a +2 cell.
    assert remove_ions(cell, "S", count=1).charge == 2


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"element": "Na", "count": 1}, "no Na"),
        ({"element": "Li", "count": 65}, "only 64 Li"),
        ({"element": "Li", "count": 1, "fraction": 0.1}, "exactly one"),
        ({"element": "Li"}, "exactly one"),
        ({"element": "Li", "fraction": 0.0}, "outside"),
        ({"element": "Li", "fraction": 0.6}, "outside"),
        ({"element": "Li", "fraction": float("nan")}, "outside"),
        ({"element": "Li", "count": 0}, "positive"),
        ({"element": "Li", "count": 1, "region": "surface"}, "unknown"),
        ({"element": "Li", "count": 1, "region": "interface"}, "site property 'region'"),
    ],
)
def test_remove_ions_bad_input(kwargs, message):
    cell = study_supercell(load_structure("Li2S"), 96)
    with pytest.raises(InterfacialError, match=message):
        remove_ions(cell, **kwargs)


@cache
def _li_licl_model() -> Structure:
    from interfacial.structures.interfaces import build_interface_models
    from interfacial.structures.matching import find_matches

    thin = {"metal_thickness": 6.0, "compound_thickness": 6.0}
    li, licl = load_structure("Li"), load_structure("LiCl")
    candidate = find_matches(li, licl, (1, 1, 0), (1, 0, 0), max_area=80, **thin)[0]
    return build_interface_models(li, licl, candidate, **thin)[0].structure


def test_interface_vacancies_stay_near_the_interfaces():
    model = _li_licl_model()
    regions = model.site_properties["region"]
    planes = interface_planes(model)
    assert len(planes) == 2
    height = model.lattice.c  # orthogonal along z for these models
    width = 2.5
    near = set(interface_region_indices(model, width))
    # Independent check: distance along z to the nearest metal/compound boundary plane.
    z = model.cart_coords[:, 2] % height
    metal_z = z[[r == "metal" for r in regions]]
    assert 0 < len(near) < len(model)
    li = [i for i, s in enumerate(model) if s.specie.symbol == "Li"]
    defective = remove_ions(model, "Li", count=4, seed=1, region="interface", region_width=width)
    assert len(defective) == len(model) - 4
    assert defective.charge == -4
    kept = {tuple(np.round(c, 6)) for c in defective.cart_coords}
    removed = [i for i in li if tuple(np.round(model.cart_coords[i], 6)) not in kept]
    assert len(removed) == 4
    for i in removed:
        assert i in near
        dz = np.abs((z[i] - planes * height + height / 2) % height - height / 2).min()
        assert dz <= width + 1e-9
    # Each plane separates the regions: the nearest atom just below it and just above it
    # belong to different regions.
    assert metal_z.size > 0
    for plane in planes * height:
        up = (z - plane) % height
        down = (plane - z) % height
        assert regions[int(np.argmin(up))] != regions[int(np.argmin(down))]
    # Region selection by seed is reproducible.
    again = remove_ions(model, "Li", count=4, seed=1, region="interface", region_width=width)
    assert np.allclose(again.cart_coords, defective.cart_coords)
    with pytest.raises(InterfacialError, match="only"):
        remove_ions(model, "Li", count=len(near) + 1, region="interface", region_width=width)


# ---------------------------------------------------------------------------------------------
# The NVT loop (cheap Lennard-Jones argon) and the maker's validation
# ---------------------------------------------------------------------------------------------


def test_thermostat_holds_the_target_temperature():
    """Mean kinetic temperature within 5 % of the target, fluctuations canonical within 30 %.

    32 Ar atoms (LJ, eps 0.0104 eV, sigma 3.40 A), 5 fs steps, 200-step ramp from 30 K, then
    2000 steps (10 ps) at 60 K: the canonical relative spread of T is sqrt(2 / 3N) = 0.144.
    Measured: mean/target 0.97-0.99 for seeds 0-3, spread 0.13-0.15, ~4 s.
    """
    from ase.build import bulk
    from ase.calculators.lj import LennardJones

    atoms = bulk("Ar", "fcc", a=5.26, cubic=True).repeat((2, 2, 2))
    calc = LennardJones(epsilon=0.0104, sigma=3.40, rc=8.0, smooth=True)
    target = 60.0
    result = run_nvt(
        atoms,
        calc,
        temperature=target,
        ramp_start_temperature=30.0,
        time_step=5.0,
        ramp_steps=200,
        production_steps=2000,
        snapshot_interval=2,
        seed=0,
        tdamp=100.0,
    )
    temperatures = np.array([f.get_temperature() for f in result.frames])
    assert len(temperatures) == 1000
    assert result.steps[0] == 2 and result.steps[-1] == 2000
    assert abs(temperatures.mean() / target - 1) < 0.05
    assert abs(temperatures.std() / target / np.sqrt(2 / (3 * len(atoms))) - 1) < 0.3
    # Zero total momentum is kept by the thermostat.
    assert np.allclose(result.frames[-1].get_momenta().sum(axis=0), 0, atol=1e-8)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"md_maker": None}, "needs md_maker"),
        ({"temperature": -5}, "positive"),
        ({"time_step": 0}, "time_step"),
        ({"production_steps": 3, "snapshot_interval": 5}, "no snapshot"),
        ({"vacancy_element": "Li"}, "exactly one"),
        ({"vacancy_count": 1}, "need vacancy_element"),
        ({"vacancy_element": "Li", "vacancy_fraction": 0.9}, "outside"),
    ],
)
def test_maker_rejects_bad_settings(kwargs, message):
    with pytest.raises(InterfacialError, match=message):
        ReferenceMDMaker(**{"md_maker": ForceFieldReferenceMDMaker().md_maker, **kwargs})


def test_flow_structure_names_and_tags():
    maker = ForceFieldReferenceMDMaker(vacancy_element="Li", vacancy_count=1, supercell_atoms=96)
    flow = maker.make(load_structure("Li2S"))
    assert [j.name for j in flow.jobs] == [
        "CHGNet reference MD Li2S training 1000 K",
        "CHGNet reference MD Li2S validation 300 K",
        "CHGNet reference MD Li2S validation 500 K",
    ]
    keys = [j.metadata["interfacial"] for j in flow.jobs]
    assert [k["purpose"] for k in keys] == ["training", "validation", "validation"]
    assert [k["temperature"] for k in keys] == [1000.0, 300.0, 500.0]
    assert {k["role"] for k in keys} == {"reference_md"}
    assert {k["system"] for k in keys} == {"Li2S"}
    run = flow.jobs[0].function_args[1]
    # The study's defaults: 2 fs, 2 ps ramp, 14 ps production, every step a snapshot.
    assert (run.time_step, run.ramp_steps, run.production_steps) == (2.0, 1000, 7000)
    assert run.n_snapshots == 7000
    assert flow.jobs[1].function_args[1].production_steps == 2000
    cell = flow.jobs[0].function_args[0]
    assert len(cell) == 95 and cell.charge == -1


# ---------------------------------------------------------------------------------------------
# A real short CHGNet run through jobflow, with the snapshots in the "data" store
# ---------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def chgnet_run() -> dict:
    """Li2S conventional cell (12 atoms), one Li vacancy, 20 ramp + 40 production steps of 1 fs."""
    # tdamp 10 fs: strong coupling, so that 60 fs are enough to heat the cell to the target.
    maker = ForceFieldReferenceMDMaker(
        md_maker=ForceFieldMDRunMaker(tdamp=10.0),
        temperature=800.0,
        ramp_start_temperature=300.0,
        time_step=1.0,
        ramp_steps=20,
        production_steps=40,
        snapshot_interval=4,
        validation_temperatures=[],
        vacancy_element="Li",
        vacancy_count=1,
    )
    flow = maker.make(load_structure("Li2S"), label="Li2S-vac")
    docs, data = MemoryStore(), MemoryStore()
    store = JobStore(docs, additional_stores={"data": data})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        responses = run_locally(flow, store=store, ensure_success=True)
    uuid = flow.jobs[0].uuid
    return {"store": store, "docs": docs, "data": data, "uuid": uuid, "responses": responses}


def test_docs_store_holds_the_summary_only(chgnet_run):
    store = chgnet_run["store"]
    raw = store.query_one({"uuid": chgnet_run["uuid"]}, load=False)
    output = raw["output"]
    assert output["system"] == "Li2S-vac"
    assert output["formula"] == "Li7S4"
    assert output["n_atoms"] == 11
    assert output["charge"] == -1
    assert output["vacancies"] == [{"element": "Li", "count": 1, "seed": 0, "region": None}]
    assert output["species_order"] == ["Li", "S"]
    assert output["temperatures"] == {"ramp_start": 300.0, "ramp_end": 800.0, "production": 800.0}
    assert output["n_snapshots"] == 10  # production_steps // snapshot_interval
    assert output["calculator"] == "CHGNet"
    assert output["purpose"] == "training"
    # Only a reference to the data store, not the snapshots themselves.
    assert set(output["snapshots"]) >= {"blob_uuid", "store"}
    assert output["snapshots"]["store"] == "data"
    assert "positions" not in str(raw)
    assert raw["metadata"]["interfacial"]["role"] == "reference_md"


def test_data_store_holds_consistent_snapshots(chgnet_run, tmp_path: Path):
    store, data = chgnet_run["store"], chgnet_run["data"]
    summary = store.query_one({"uuid": chgnet_run["uuid"]}, load=False)["output"]
    blob = data.query_one({"blob_uuid": summary["snapshots"]["blob_uuid"]})
    snapshots = MDSnapshots.model_validate(blob["data"])
    assert len(snapshots) == summary["n_snapshots"] == 10
    assert [s.step for s in snapshots.snapshots] == list(range(4, 41, 4))
    # The summary is recomputed from the stored snapshots.
    per_atom = [s.energy / 11 for s in snapshots.snapshots]
    assert summary["energy_range"] == pytest.approx([min(per_atom), max(per_atom)])
    forces = max(np.linalg.norm(s.forces, axis=1).max() for s in snapshots.snapshots)
    assert summary["max_force"] == pytest.approx(forces)
    temps = [s.temperature for s in snapshots.snapshots]
    assert summary["mean_temperature"] == pytest.approx(np.mean(temps))
    assert 400 < np.mean(temps) < 1300  # 11 atoms, 40 fs: a loose sanity bound only
    assert all(s.stress is not None and len(s.stress) == 6 for s in snapshots.snapshots)
    # load=True resolves the reference back into the document.
    loaded = store.query_one({"uuid": chgnet_run["uuid"]}, load=True)["output"]
    assert len(loaded["snapshots"]["snapshots"]) == 10
    # The snapshots make an MLIP training set that reads back.
    frames = snapshots.to_atoms()
    order = species_order(snapshots.symbols)
    path = write_cfg(frames, tmp_path / "train.cfg", order)
    back = read_cfg(path, order)
    assert len(back) == 10
    assert back[3].get_potential_energy() == pytest.approx(snapshots.snapshots[3].energy)
    np.testing.assert_allclose(back[3].get_forces(), snapshots.snapshots[3].forces, atol=1e-8)
    np.testing.assert_allclose(back[3].get_stress(), snapshots.snapshots[3].stress, atol=1e-8)


# ---------------------------------------------------------------------------------------------
# VASP: flow structure and generated inputs (VASP faked), trajectory conversion
# ---------------------------------------------------------------------------------------------


def test_vasp_flow_structure_and_aimd_inputs(monkeypatch, tmp_path):
    from test_vasp_inputs import run_until_vasp

    maker = VaspReferenceMDMaker(
        vacancy_element="Li", vacancy_count=1, supercell_atoms=96, validation_temperatures=[300]
    )
    flow = maker.make(load_structure("Li2S"))
    assert isinstance(flow, Flow)
    names = [j.name for j in flow.jobs]
    assert [f.name for f in flow.jobs] == [
        "VASP AIMD Li2S training 1000 K",
        "VASP AIMD Li2S validation 300 K",
    ]
    training = flow.jobs[0]
    inner = [j.name for j in training.jobs]
    assert inner == [
        "VASP AIMD ramp Li2S training 1000 K",
        "VASP AIMD production Li2S training 1000 K",
        "VASP AIMD Li2S training 1000 K",
    ]
    roles = [j.metadata["interfacial"]["role"] for j in training.jobs]
    assert roles == ["reference_md_ramp", "reference_md_production", "reference_md"]
    assert len(names) == 2
    ramp, production, summary = training.jobs
    assert summary.function_args[3] == [ramp.uuid, production.uuid]
    # The ramp job's real inputs: 300 -> 1000 K over 1000 steps of 2 fs, charged cell.
    cell = ramp.function_args[0]
    assert len(cell) == 95 and cell.charge == -1
    aimd = _vasp_maker_of(300.0, 1000.0, 1000)
    seen = run_until_vasp(aimd, cell, monkeypatch, tmp_path / "ramp")
    incar = seen["INCAR"]
    assert (incar["TEBEG"], incar["TEEND"], incar["NSW"], incar["POTIM"]) == (300, 1000, 1000, 2)
    assert incar["MDALGO"] == 2 and incar["ENCUT"] == 400
    assert incar["NELECT"] == 63 * 1 + 32 * 6 + 1  # ZVAL sum + 1 electron of the removed Li+
    assert list(seen["KPOINTS"].kpts[0]) == [1, 1, 1]


def _vasp_maker_of(start: float, end: float, steps: int):
    from interfacial.vasp.flows import aimd_maker

    return aimd_maker(start, end, steps, 2.0)


def test_vasp_trajectory_becomes_snapshots():
    lattice = Lattice.cubic(4.0)
    species = ["Li", "Li"]
    coords = [[[0, 0, 0], [0.5, 0.5, 0.5 + 0.01 * k]] for k in range(6)]
    props = [
        {
            "e_fr_energy": -3.0 - 0.1 * k,
            "e_0_energy": 99.0,
            "forces": [[0.1 * k, 0, 0], [-0.1 * k, 0, 0]],
            "stress": [[10.0, 0, 0], [0, 10.0, 0], [0, 0, 10.0]],
        }
        for k in range(6)
    ]
    trajectory = Trajectory(
        species=species, coords=coords, lattice=lattice, frame_properties=props, time_step=2.0
    )
    snapshots = snapshots_from_trajectory(trajectory.as_dict(), time_step=2.0, interval=2)
    assert [s.step for s in snapshots.snapshots] == [2, 4, 6]
    assert [s.energy for s in snapshots.snapshots] == pytest.approx([-3.1, -3.3, -3.5])
    assert snapshots.snapshots[0].time == 4.0
    # 10 kBar compressive (VASP) is -6.24e-4 eV/A^3 in ASE's convention.
    assert snapshots.snapshots[0].stress[0] == pytest.approx(10.0 * KBAR_TO_ASE_STRESS)
    assert snapshots.snapshots[0].stress[0] < 0
    with pytest.raises(InterfacialError, match="fewer than one interval"):
        snapshots_from_trajectory(trajectory, time_step=2.0, interval=7)


def test_run_nvt_stops_on_request_and_on_non_finite_dynamics():
    """The hooks active learning uses: stop at a snapshot, stop (not crash) on NaN positions."""
    from typing import ClassVar

    import numpy as np
    from ase.build import bulk
    from ase.calculators.calculator import Calculator, all_changes
    from ase.calculators.lj import LennardJones

    from interfacial.ase_md import run_nvt

    argon = bulk("Ar", "fcc", a=5.26, cubic=True) * (2, 2, 2)
    common = {
        "temperature": 60.0,
        "ramp_start_temperature": 60.0,
        "time_step": 5.0,
        "ramp_steps": 0,
        "production_steps": 50,
        "snapshot_interval": 5,
    }
    seen = []
    run = run_nvt(
        argon,
        LennardJones(sigma=3.4, epsilon=0.0104, rc=8.0),
        on_snapshot=lambda frame: seen.append(frame) or len(seen) == 3,
        **common,
    )
    assert (len(run.frames), run.steps, run.ended) == (3, [5, 10, 15], "stopped by on_snapshot")

    class Exploding(Calculator):
        implemented_properties: ClassVar[list[str]] = ["energy", "forces", "stress"]

        def calculate(self, atoms=None, properties=None, system_changes=all_changes):
            super().calculate(atoms, properties, system_changes)
            blown = atoms.get_positions()[0, 0] > 1e6 or len(self.results) > 0
            self.results = {
                "energy": 0.0,
                "forces": np.full((len(atoms), 3), np.inf if blown else 1e9),
                "stress": np.zeros(6),
            }

    run = run_nvt(argon, Exploding(), stop_on_nonfinite=True, **common)
    assert run.ended == "non-finite dynamics"
    assert len(run.frames) < 10
