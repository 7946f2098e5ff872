"""The interface-energetics flow on the embedded default (real CHGNet runs), checked independently.

One small Li(110)||LiCl(100) calculation is shared by the tests: E_f, sigma and W are recomputed
here from the stored task documents with the equations written out, the builder must reproduce the
flow's own documents and rebuild exactly what changed, and E_f is checked against a relaxation
written directly against ASE + CHGNet.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from interfacial.settings import InterfacialSettings

pytestmark = pytest.mark.slow

J_PER_M2 = 1.602176634e-19 / 1e-20  # 1 eV/A^2 in J/m^2
SMALL_MODEL = {
    "metal_thickness": 5.0,
    "compound_thickness": 5.0,
    "registries": [[0.0, 0.0], [0.5, 0.5]],
    "gaps": [1.8, 2.6],
    "max_atoms": 120,
}


@pytest.fixture(scope="module")
def interface_run(tmp_path_factory: pytest.TempPathFactory) -> dict:
    from interfacial.api import run_interface

    settings = InterfacialSettings(data_dir=tmp_path_factory.mktemp("interface-db"))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        docs = run_interface(
            "Li",
            "LiCl",
            [1, 1, 0],
            [1, 0, 0],
            settings=settings,
            show_progress=False,
            surface_kwargs={"min_thickness": 6.0},
            **SMALL_MODEL,
        )
    return {"settings": settings, "docs": docs}


def tasks_store(settings):
    from interfacial.stores import get_job_store

    store = get_job_store(settings).docs_store
    store.connect()
    return store


def task(store, uuid):
    return store.query_one({"uuid": uuid}, sort={"index": -1})


def test_every_model_is_stored_and_one_is_lowest(interface_run):
    docs = interface_run["docs"]
    assert len(docs) >= 2  # two gaps at least
    assert sum(d["is_lowest"] for d in docs) == 1
    lowest = next(d for d in docs if d["is_lowest"])
    assert lowest["E_f"] == min(d["E_f"] for d in docs)
    for d in docs:
        assert d["metal_miller"] == [1, 1, 0]
        assert d["compound_miller"] == [1, 0, 0]
        assert d["calculator"] == "CHGNet"
        assert d["relaxation"] == "fully-relaxed"
        assert d["n_atoms"] <= SMALL_MODEL["max_atoms"]


def test_energetics_match_a_recomputation_from_the_stored_tasks(interface_run):
    """E_f, sigma, W and W' from the raw stored energies, counts taken from the structures."""
    from pymatgen.core import Structure

    from interfacial.api import query_surfaces

    settings = interface_run["settings"]
    gammas = {d["surface_id"]: d["surface_energy"] for d in query_surfaces(settings=settings)}
    store = tasks_store(settings)
    try:
        for d in interface_run["docs"]:
            model = task(store, d["interface_uuid"])
            structure = Structure.from_dict(model["output"]["structure"])
            n_cl = structure.composition["Cl"]
            n_li_metal = structure.composition["Li"] - n_cl  # LiCl brings one Li per Cl
            area = float(np.linalg.norm(np.cross(*structure.lattice.matrix[:2])))
            e_ab = model["output"]["output"]["energy"]

            li = task(store, d["metal_bulk_uuid"])["output"]
            licl = task(store, d["compound_bulk_uuid"])["output"]
            e_li = li["output"]["energy"] / len(li["structure"]["sites"])
            licl_structure = Structure.from_dict(licl["structure"])
            e_licl = licl["output"]["energy"] / licl_structure.composition["Cl"]

            strained_li = Structure.from_dict(
                task(store, d["strained_metal_uuid"])["output"]["structure"]
            )
            strained_licl_doc = task(store, d["strained_compound_uuid"])["output"]
            strained_licl = Structure.from_dict(strained_licl_doc["structure"])
            e_li_z = task(store, d["strained_metal_uuid"])["output"]["output"]["energy"] / len(
                strained_li
            )
            e_licl_z = strained_licl_doc["output"]["energy"] / strained_licl.composition["Cl"]

            e_f = (e_ab - n_li_metal * e_li - n_cl * e_licl) / (2 * area) * J_PER_M2
            sigma = (e_ab - n_li_metal * e_li_z - n_cl * e_licl_z) / (2 * area) * J_PER_M2
            gamma_li = gammas[d["metal_surface_id"]]
            gamma_licl = gammas[d["compound_surface_id"]]
            assert d["E_f"] == pytest.approx(e_f, abs=1e-9)
            assert d["sigma"] == pytest.approx(sigma, abs=1e-9)
            assert d["strain_energy"] == pytest.approx(e_f - sigma, abs=1e-9)
            assert d["W_adhesion"] == pytest.approx(gamma_li + gamma_licl - sigma, abs=1e-9)
            assert d["W_adhesion_eq5"] == pytest.approx(gamma_li + gamma_licl - e_f, abs=1e-9)
            assert d["gamma_metal"] == gamma_li
            assert d["wets"] == (d["W_adhesion"] > 2 * gamma_li)
            assert d["area"] == pytest.approx(area, rel=1e-9)
            # The strained Li keeps the interface's in-plane lattice.
            np.testing.assert_allclose(
                strained_li.lattice.matrix[:2], structure.lattice.matrix[:2], atol=1e-6
            )
    finally:
        store.close()


def test_builder_reproduces_the_flow_documents_and_is_incremental(interface_run):
    from interfacial.builders.interface import InterfaceBuilder
    from interfacial.stores import get_job_store, sibling_store

    settings = interface_run["settings"]
    job_store = get_job_store(settings)
    tasks = job_store.docs_store
    surfaces = sibling_store(tasks, "surfaces", "surface_id")
    rebuilt = sibling_store(tasks, "interfaces_rebuilt", "model_id")

    def run_builder() -> int:
        builder = InterfaceBuilder(tasks, surfaces, rebuilt)
        builder.connect()
        items = [builder.process_item(i) for i in builder.get_items()]
        builder.update_targets(items)
        return len(items)

    assert run_builder() == 1
    flow_docs = {}
    for energetics in tasks.query({"metadata.interfacial.role": "interface_energetics"}):
        for doc in energetics["output"]:
            flow_docs[doc["model_id"]] = doc
    built = {d["model_id"]: d for d in rebuilt.query({})}
    assert set(built) == set(flow_docs)
    for model_id, doc in flow_docs.items():
        for key in ("E_f", "sigma", "W_adhesion", "W_adhesion_eq5", "strain_energy"):
            assert built[model_id][key] == pytest.approx(doc[key], abs=1e-12)
        assert built[model_id]["is_lowest"] == doc["is_lowest"]

    assert run_builder() == 0  # nothing changed: nothing rebuilt

    # Added sources: a copy of the group's tasks under another interface id is a new group, built
    # once, while the original group is left alone.
    original_id = next(iter(built.values()))["interface_id"]
    copies = []
    for stored in tasks.query({"metadata.interfacial.interface_id": original_id}):
        doc = {k: v for k, v in stored.items() if k != "_id"}
        keys = {**doc["metadata"]["interfacial"], "interface_id": "copy"}
        if "model_id" in keys:
            keys["model_id"] = keys["model_id"].replace(original_id, "copy")
        copies.append({**doc, "uuid": f"copy-{doc['uuid']}", "metadata": {"interfacial": keys}})
    tasks.update(copies, key=["uuid", "index"])
    stamp = {d["model_id"]: d["last_updated"] for d in rebuilt.query({})}
    assert run_builder() == 1
    assert {
        d["model_id"]: d["last_updated"] for d in rebuilt.query({"interface_id": original_id})
    } == stamp
    assert rebuilt.count({"interface_id": "copy"}) == len(stamp)
    assert run_builder() == 0

    # Correct the strained-Li energy in place: sigma of every model moves by N_Li * dE / (2S).
    strained_uuid = next(iter(built.values()))["strained_metal_uuid"]
    strained = task(tasks, strained_uuid)
    n_strained = strained["metadata"]["interfacial"]["n_units"]
    shift = 0.05  # eV for the whole strained cell
    tasks.update(
        [
            {
                **strained,
                "output": {
                    **strained["output"],
                    "output": {
                        **strained["output"]["output"],
                        "energy": strained["output"]["output"]["energy"] + shift,
                    },
                },
            }
        ],
        key=["uuid", "index"],
    )
    assert run_builder() == 1  # only the group the corrected document belongs to
    copied = {d["model_id"]: d["sigma"] for d in rebuilt.query({"interface_id": "copy"})}
    assert copied == {k.replace(original_id, "copy"): v["sigma"] for k, v in built.items()}
    for model_id, doc in {
        d["model_id"]: d for d in rebuilt.query({"interface_id": original_id})
    }.items():
        n_li = built[model_id]["energies"]["n_metal_atoms"]
        expected = -n_li * shift / n_strained / (2 * doc["area"]) * J_PER_M2
        assert doc["sigma"] - built[model_id]["sigma"] == pytest.approx(expected, abs=1e-9)
        assert doc["E_f"] == pytest.approx(built[model_id]["E_f"], abs=1e-12)
    tasks.close()


def test_formation_energy_matches_a_hand_written_ase_calculation(interface_run):
    """Relax the stored initial model and both bulks with ASE + CHGNet directly."""
    from ase.build import bulk
    from ase.filters import FrechetCellFilter
    from ase.optimize import FIRE
    from chgnet.model.dynamics import CHGNetCalculator
    from pymatgen.core import Structure
    from pymatgen.io.ase import AseAtomsAdaptor

    settings = interface_run["settings"]
    lowest = next(d for d in interface_run["docs"] if d["is_lowest"])
    store = tasks_store(settings)
    try:
        model = task(store, lowest["interface_uuid"])
    finally:
        store.close()
    initial = Structure.from_dict(model["output"]["input"]["mol_or_struct"])
    calc = CHGNetCalculator(use_device="cpu")

    def relaxed_energy(atoms, mask=None) -> float:
        atoms.calc = calc
        target = (
            FrechetCellFilter(atoms, mask=mask) if mask is not None else FrechetCellFilter(atoms)
        )
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            FIRE(target, logfile=None).run(fmax=0.02, steps=1000)
        return atoms.get_potential_energy()

    e_li = relaxed_energy(bulk("Li", "bcc", a=3.51, cubic=True)) / 2
    e_licl = relaxed_energy(bulk("LiCl", "rocksalt", a=5.13, cubic=True)) / 4
    atoms = AseAtomsAdaptor.get_atoms(initial)
    atoms.set_constraint()
    e_ab = relaxed_energy(atoms, mask=[0, 0, 1, 0, 0, 0])
    n_cl = initial.composition["Cl"]
    n_li = initial.composition["Li"] - n_cl
    area = float(np.linalg.norm(np.cross(*initial.lattice.matrix[:2])))
    e_f = (e_ab - n_li * e_li - n_cl * e_licl) / (2 * area) * J_PER_M2
    assert lowest["E_f"] == pytest.approx(e_f, abs=0.02)


def test_report_draws_adhesion_bars_and_the_lowest_model(interface_run, tmp_path):
    from interfacial.api import report

    paths = report(tmp_path / "figs", interface_run["settings"])
    names = sorted(p.name for p in paths)
    assert "adhesion_CHGNet.png" in names
    assert "model_Li110_LiCl100_CHGNet.png" in names
    # A cubic facet family alone encloses a shape (Li {110}: rhombic dodecahedron; LiCl {100}:
    # cube), so the single-facet surface runs of the interface flow still give Wulff figures.
    assert {"wulff_Li_CHGNet.png", "wulff_LiCl_CHGNet.png"} <= set(names)
    for path in paths:
        assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        assert path.stat().st_size > 10_000
