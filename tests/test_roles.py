"""The typed contract between jobs and builders: roles, their keys, one writer and one reader."""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import pytest
from atomate2.forcefields.jobs import ForceFieldRelaxMaker
from jobflow import Flow, Job, JobStore, job, run_locally
from maggma.stores import MemoryStore
from pymatgen.core import Lattice, Structure

from interfacial.analysis.surface import EV_PER_A2_TO_J_PER_M2
from interfacial.errors import InterfacialError
from interfacial.schemas.roles import (
    MODELS,
    BulkKeys,
    Role,
    SlabKeys,
    output_job,
    read_keys,
    role_filter,
    tag,
    tagged_jobs,
)


@job
def _add(a: float, b: float) -> float:
    return a + b


SLAB = {
    "material": "Li",
    "formula": "Li",
    "bulk_uuid": "b-1",
    "calculator": "CHGNet",
    "miller_index": [1, 0, 0],
    "termination": "t0-Li",
    "shift": 0.25,
    "tasker_type": 1,
    "n_repeats": 3,
    "n_atoms": 6,
    "area": 12.3,
    "slab_thickness": 8.1,
    "vacuum": 15.0,
    "convergence_tol": 0.01,
}


def test_role_strings_are_those_stored_by_earlier_releases() -> None:
    # Stored databases query on these strings: renaming one would orphan its documents.
    assert {r.value for r in Role} == {
        "bulk",
        "facets",
        "surface_fanout",
        "slab",
        "surface",
        "surface_material",
        "match",
        "interface_fanout",
        "interface",
        "strained_bulk",
        "interface_energetics",
        "screen_candidates",
        "screen_tier",
        "screening",
        "reference_md",
        "reference_md_ramp",
        "reference_md_production",
        "training_sets",
        "mtp_fit",
        "active_learning",
        "al_label",
        "transport_learning",
        "diffusion_md",
        "arrhenius_summary",
    }
    assert set(MODELS) == set(Role)


def test_a_typo_fails_when_the_flow_is_made_with_one_line_naming_the_key() -> None:
    keys = {**SLAB, "n_repeat": 3}
    del keys["n_repeats"]
    with pytest.raises(InterfacialError) as info:
        tag(_add(1, 2), Role.SLAB, **keys)
    message = str(info.value)
    assert "\n" not in message
    assert "unknown key 'n_repeat'" in message
    assert "missing key 'n_repeats'" in message
    with pytest.raises(InterfacialError, match="key 'n_atoms'"):
        tag(_add(1, 2), Role.SLAB, **{**SLAB, "n_atoms": "six"})


def test_a_typo_in_a_maker_made_flow_fails_at_make_time() -> None:
    from interfacial.flows.mtp import MotepFitMaker

    maker = MotepFitMaker()
    job_ = maker.make("cfg", ["Li"], "Li")  # tagged with valid keys
    assert read_keys(job_.metadata).ROLE is Role.MTP_FIT
    with pytest.raises(InterfacialError, match="unknown key 'sytem'"):
        tag(job_, Role.MTP_FIT, sytem="Li")


def test_tag_merges_into_existing_metadata() -> None:
    job_ = _add(1, 2)
    job_.metadata = {"project": "anodes", "interfacial": {"role": "bulk", "material": "Li"}}
    tag(job_, Role.BULK, formula="Li", calculator="CHGNet")
    assert job_.metadata == {
        "project": "anodes",
        "interfacial": {"role": "bulk", "material": "Li", "formula": "Li", "calculator": "CHGNet"},
    }
    keys = read_keys(job_, BulkKeys)
    assert (keys.material, keys.calculator) == ("Li", "CHGNet")
    with pytest.raises(InterfacialError, match="already tagged 'bulk'"):
        tag(job_, Role.FACETS, material="Li", bulk_uuid="x")


def test_a_flow_is_tagged_on_the_job_that_makes_its_output() -> None:
    first = _add(1, 2)
    second = _add(first.output, 3)
    flow = Flow([first, second], output=second.output, name="two steps")
    tag(flow, Role.TRAINING_SETS, system="Li")
    assert output_job(flow) is second
    assert tagged_jobs(Flow([flow]), Role.TRAINING_SETS) == [second]
    assert "interfacial" not in first.metadata
    with pytest.raises(InterfacialError, match="no output job"):
        tag(Flow([_add(1, 2)], name="silent"), Role.TRAINING_SETS, system="Li")


def test_read_keys_names_the_document_and_the_bad_key() -> None:
    doc = {"uuid": "u-42", "metadata": {"interfacial": {"role": "slab", **SLAB}}}
    assert read_keys(doc, SlabKeys).miller_index == [1, 0, 0]
    assert read_keys(doc, Role.SLAB) == read_keys(doc)
    broken = {"uuid": "u-43", "metadata": {"interfacial": {"role": "slab", **SLAB, "area": None}}}
    with pytest.raises(InterfacialError, match=r"task document u-43.*key 'area'"):
        read_keys(broken)
    with pytest.raises(InterfacialError, match="u-42 has role 'slab', expected 'bulk'"):
        read_keys(doc, BulkKeys)
    with pytest.raises(InterfacialError, match="u-44: unknown role 'slabs'"):
        read_keys({"uuid": "u-44", "metadata": {"interfacial": {"role": "slabs"}}})


def test_role_filter_refuses_keys_the_role_does_not_have() -> None:
    assert role_filter(Role.SLAB, bulk_uuid="b") == {
        "metadata.interfacial.role": "slab",
        "metadata.interfacial.bulk_uuid": "b",
    }
    assert role_filter([Role.FACETS, Role.SLAB])["metadata.interfacial.role"] == {
        "$in": ["facets", "slab"]
    }
    with pytest.raises(InterfacialError, match="no key bulk_id"):
        role_filter(Role.SLAB, bulk_id="b")


def test_builders_refuse_a_malformed_stored_document_naming_its_uuid() -> None:
    from interfacial.builders.diffusion import DiffusionBuilder

    tasks = MemoryStore(key="uuid")
    tasks.connect()
    keys = {"role": "diffusion_md", "system": "Li", "temperatur": 800.0}
    task = {"uuid": "md-7", "metadata": {"interfacial": keys}, "output": {"diffusion_id": "d"}}
    tasks.update([task], key="uuid")
    builder = DiffusionBuilder(tasks, MemoryStore(key="diffusion_id"))
    builder.connect()
    with pytest.raises(InterfacialError, match=r"task document md-7.*unknown key 'temperatur'"):
        list(builder.get_items())


# ------------------------------------------------- a flow-returning bulk relax maker, end to end


@dataclass
class EMTRelaxMaker(ForceFieldRelaxMaker):
    """atomate2's force-field relax job with ASE's EMT (cheap, Cu): no model weights involved.

    At module level: jobflow rebuilds makers passed to jobs from their import path.
    """

    name: str = "EMT relax"
    force_field_name: str = "Forcefield"
    steps: int = 300

    def _get_calculator(self):
        from ase.calculators.emt import EMT

        return EMT()


def test_a_double_relax_bulk_maker_runs_through_the_surface_flow_and_its_builder() -> None:
    from atomate2.vasp.flows.core import DoubleRelaxMaker

    from interfacial.builders.surface import SurfaceBuilder
    from interfacial.flows.surface import SurfaceEnergyMaker, bulk_relaxation

    maker = SurfaceEnergyMaker(
        bulk_relax_maker=DoubleRelaxMaker(
            relax_maker1=EMTRelaxMaker(relax_cell=True),
            relax_maker2=EMTRelaxMaker(relax_cell=True),
        ),
        slab_relax_maker=EMTRelaxMaker(relax_cell=False),
        calculator="EMT",
        millers=[[1, 0, 0]],
        min_thickness=4.0,
        max_thickness=12.0,
        vacuum=10.0,
    )
    cu = Structure(
        Lattice.cubic(3.6), ["Cu"] * 4, [[0, 0, 0], [0.5, 0.5, 0], [0.5, 0, 0.5], [0, 0.5, 0.5]]
    )
    flow = maker.make(cu, "Cu")
    bulk = bulk_relaxation(flow)
    first, second = flow.jobs[0].jobs
    assert bulk is second  # the job whose output is the double relaxation's output
    assert [first.name, second.name] == ["bulk relax Cu EMT relax 1", "bulk relax Cu EMT relax 2"]
    assert "interfacial" not in first.metadata

    store = JobStore(MemoryStore(), additional_stores={"data": MemoryStore()})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        run_locally(flow, store=store, create_folders=False, ensure_success=True)
    tasks = store.docs_store
    surfaces, materials = MemoryStore(key="surface_id"), MemoryStore(key="bulk_uuid")
    builder = SurfaceBuilder(tasks, surfaces, materials)
    builder.connect()
    items = list(builder.get_items())
    assert [i["bulk_uuid"] for i in items] == [bulk.uuid]
    builder.update_targets([builder.process_item(i) for i in items])
    (doc,) = surfaces.query({})
    assert doc["bulk_uuid"] == bulk.uuid

    # Independent oracle: gamma from the stored energies of the chosen slab and the second relax.
    bulk_doc = tasks.query_one({"uuid": bulk.uuid}, sort={"index": -1})
    slab_doc = tasks.query_one({"uuid": doc["slab_uuid"]}, sort={"index": -1})
    e_bulk = bulk_doc["output"]["output"]["energy"] / len(bulk_doc["output"]["structure"]["sites"])
    slab_keys = read_keys(slab_doc, SlabKeys)
    e_slab = slab_doc["output"]["output"]["energy"]
    gamma = (e_slab - slab_keys.n_atoms * e_bulk) / (2 * slab_keys.area) * EV_PER_A2_TO_J_PER_M2
    assert doc["surface_energy"] == pytest.approx(gamma, abs=1e-9)
    assert 0.5 < doc["surface_energy"] < 2.5  # J/m^2, EMT Cu(100)
    # The flow's own gamma document agrees with the builder's.
    own = {
        d["output"]["surface_id"]: d["output"]
        for d in tasks.query(role_filter(Role.SURFACE))
        if isinstance(d.get("output"), dict) and d["output"].get("surface_energy") is not None
    }
    assert own[doc["surface_id"]]["surface_energy"] == pytest.approx(
        doc["surface_energy"], abs=1e-12
    )
    assert isinstance(bulk, Job)
