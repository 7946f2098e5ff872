"""The builder recomputes gamma from stored task documents, incrementally and idempotently."""

from __future__ import annotations

import pytest

from interfacial.analysis.surface import EV_PER_A2_TO_J_PER_M2

pytestmark = pytest.mark.slow


def _stores(settings):
    from interfacial.stores import SURFACE_MATERIALS, SURFACES, derived_store, get_job_store

    return (
        get_job_store(settings),
        derived_store(SURFACES, "surface_id", settings),
        derived_store(SURFACE_MATERIALS, "bulk_uuid", settings),
    )


def _flow_surface_docs(job_store):
    """The flow's own gamma documents (highest index per uuid, final thickness only)."""
    docs = {}
    for d in job_store.query({"metadata.interfacial.role": "surface"}):
        out = d["output"]
        if isinstance(out, dict) and out.get("surface_energy") is not None:
            docs[out["surface_id"]] = out
    return docs


def test_builder_reproduces_the_flow_from_task_documents(computed, tmp_path):
    from interfacial.builders.surface import SurfaceBuilder
    from interfacial.stores import sibling_store

    job_store, _, _ = _stores(computed["settings"])
    job_store.connect()
    flow_docs = _flow_surface_docs(job_store)
    # Build into fresh collections so nothing the flow's run produced is reused.
    surfaces = sibling_store(job_store.docs_store, "surfaces_rebuilt", "surface_id")
    materials = sibling_store(job_store.docs_store, "materials_rebuilt", "bulk_uuid")
    builder = SurfaceBuilder(job_store.docs_store, surfaces, materials)
    builder.connect()
    items = list(builder.get_items())
    assert len(items) == 2  # Li and Li2S
    builder.update_targets([builder.process_item(i) for i in items])
    rebuilt = {d["surface_id"]: d for d in surfaces.query({"surface_energy": {"$ne": None}})}
    assert set(rebuilt) == set(flow_docs)
    for sid, doc in flow_docs.items():
        assert rebuilt[sid]["surface_energy"] == pytest.approx(doc["surface_energy"], abs=1e-12)
        assert rebuilt[sid]["n_atoms"] == doc["n_atoms"]
    # A second pass finds nothing to do.
    assert list(builder.get_items()) == []
    job_store.close()


def test_changed_source_rebuilds_exactly_its_group(computed):
    from interfacial.api import build, query_surfaces

    settings = computed["settings"]
    before = {d["surface_id"]: d for d in query_surfaces(settings=settings)}
    assert build(settings) == {
        "surfaces": 0,
        "interfaces": 0,
        "screening": 0,
        "diffusion": 0,
        "arrhenius": 0,
    }  # idempotent: nothing changed

    # Raise the energy of the slab behind Li(110) by 0.05 eV and mark it recomputed.
    target = next(
        d for d in before.values() if d["material"] == "Li" and d["miller_index"] == [1, 1, 0]
    )
    job_store, _, _ = _stores(settings)
    job_store.connect()
    task = job_store.docs_store.query_one({"uuid": target["slab_uuid"]})
    task["output"]["output"]["energy"] += 0.05
    task["completed_at"] = task["completed_at"] + "-rerun"
    job_store.docs_store.update([task], key=["uuid", "index"])
    job_store.close()

    assert build(settings) == {
        "surfaces": 1,
        "interfaces": 0,
        "screening": 0,
        "diffusion": 0,
        "arrhenius": 0,
    }
    after = {d["surface_id"]: d for d in query_surfaces(settings=settings)}
    expected = target["surface_energy"] + 0.05 / (2 * target["area"]) * EV_PER_A2_TO_J_PER_M2
    assert after[target["surface_id"]]["surface_energy"] == pytest.approx(expected, abs=1e-9)
    for sid, doc in before.items():
        if doc["material"] == "Li2S":
            assert after[sid]["last_updated"] == doc["last_updated"]  # untouched group
    assert build(settings) == {
        "surfaces": 0,
        "interfaces": 0,
        "screening": 0,
        "diffusion": 0,
        "arrhenius": 0,
    }

    # Restore the source so other tests see the original energies.
    job_store.connect()
    task["output"]["output"]["energy"] -= 0.05
    job_store.docs_store.update([task], key=["uuid", "index"])
    job_store.close()
    assert build(settings) == {
        "surfaces": 1,
        "interfaces": 0,
        "screening": 0,
        "diffusion": 0,
        "arrhenius": 0,
    }
