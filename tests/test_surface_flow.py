"""The surface-energy flow on the embedded default (real CHGNet runs), checked independently."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from interfacial.analysis.surface import EV_PER_A2_TO_J_PER_M2

pytestmark = pytest.mark.slow


def by_facet(docs, miller):
    return [d for d in docs if d["miller_index"] == miller]


def ase_gamma(surface_builder, n_layers: int) -> float:
    """gamma of bcc Li written directly against ASE + CHGNet: no interfacial code involved."""
    from ase.build import bulk
    from ase.filters import FrechetCellFilter
    from ase.optimize import BFGS, FIRE
    from chgnet.model.dynamics import CHGNetCalculator

    calc = CHGNetCalculator(use_device="cpu")
    li = bulk("Li", "bcc", a=3.51, cubic=True)
    li.calc = calc
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        FIRE(FrechetCellFilter(li), logfile=None).run(fmax=0.001, steps=500)
    e_bulk = li.get_potential_energy() / len(li)
    a = li.cell.lengths()[0]

    slab = surface_builder("Li", size=(1, 1, n_layers), a=a, vacuum=10.0)
    slab.calc = calc
    BFGS(slab, logfile=None).run(fmax=0.005, steps=500)
    area = np.linalg.norm(np.cross(slab.cell[0], slab.cell[1]))
    return (slab.get_potential_energy() - len(slab) * e_bulk) / (2 * area) * EV_PER_A2_TO_J_PER_M2


@pytest.mark.parametrize(("miller", "builder_name"), [([1, 0, 0], "bcc100"), ([1, 1, 0], "bcc110")])
def test_li_gamma_matches_a_hand_written_ase_calculation(computed, miller, builder_name):
    import ase.build

    (doc,) = by_facet(computed["Li"], miller)
    assert doc["converged"] is True
    builder = getattr(ase.build, builder_name)
    atoms_per_layer = len(builder("Li", size=(1, 1, 1), a=3.5))
    n_layers = doc["n_atoms"] // atoms_per_layer
    reference = ase_gamma(builder, n_layers)
    assert doc["surface_energy"] == pytest.approx(reference, abs=0.01)
    assert 0.1 < doc["surface_energy"] < 1.0  # J/m^2: a physical range for Li


def test_thickness_convergence_meets_the_criterion(computed):
    for doc in computed["Li"] + computed["Li2S"]:
        if doc["surface_energy"] is None:
            continue
        gammas = [p["surface_energy"] for p in doc["thickness_series"]]
        assert len(gammas) >= 2
        assert abs(gammas[-1] - gammas[-2]) < 0.01
        assert doc["surface_energy"] == gammas[-1]
        thick = [p["slab_thickness"] for p in doc["thickness_series"]]
        assert thick == sorted(thick)


def test_li2s_reports_100_as_polar_and_111_lowest(computed):
    from interfacial.api import query_surface_materials

    docs = computed["Li2S"]
    (d100,) = by_facet(docs, [1, 0, 0])
    assert d100["surface_energy"] is None
    assert d100["tasker_type"] == 3
    assert "Tasker type 3" in d100["reason"]
    usable = [d for d in docs if d["surface_energy"] is not None]
    assert min(usable, key=lambda d: d["surface_energy"])["miller_index"] == [1, 1, 1]
    (material,) = [
        m for m in query_surface_materials(computed["settings"]) if m["material"] == "Li2S"
    ]
    assert material["lowest_facet"] == [1, 1, 1]
    assert sum(f["area_fraction"] for f in material["facets"]) == pytest.approx(1.0, abs=1e-6)
    assert [m["miller_index"] for m in material["missing_facets"]] == [[1, 0, 0]]


def test_wulff_fractions_sum_to_one_and_weighted_gamma_is_consistent(computed):
    from interfacial.api import query_surface_materials

    for material in query_surface_materials(computed["settings"]):
        fractions = [f["area_fraction"] for f in material["facets"]]
        assert sum(fractions) == pytest.approx(1.0, abs=1e-6)
        weighted = sum(f["area_fraction"] * f["surface_energy"] for f in material["facets"])
        assert material["weighted_surface_energy"] == pytest.approx(weighted, rel=1e-6)


def test_documents_carry_units_keys_and_provenance(computed):
    from interfacial.stores import get_job_store

    store = get_job_store(computed["settings"])
    store.connect()
    try:
        for doc in computed["Li"]:
            assert isinstance(doc["miller_index"], list)
            assert doc["calculator"] == "CHGNet"
            slab_task = store.query_one({"uuid": doc["slab_uuid"]})
            assert slab_task["metadata"]["interfacial"]["role"] == "slab"
            assert slab_task["output"]["forcefield_name"].endswith("CHGNet")
            assert store.query_one({"uuid": doc["bulk_uuid"]})["name"] == "bulk relax Li"
            # Large arrays live in the data store, not in the docs store.
            assert "blob_uuid" in str(slab_task["output"]["output"].get("ionic_steps"))
    finally:
        store.close()
