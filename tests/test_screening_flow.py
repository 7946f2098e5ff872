"""The screening funnel: tier plumbing, roles, the maker, reuse, the plan, and one real screen.

Fast tests check the pieces on the built-in structures and hand-filled stores; one slow test
runs a small real CHGNet screen (electrolyte LiCl against Li, two Li facets, tiny tiers) with
one candidate forced to fail, then again to reuse everything, and checks W of a candidate
against E_f and sigma recomputed here from the stored task energies.
"""

from __future__ import annotations

import dataclasses
import json
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from jobflow import Flow, Maker, job
from jobflow.core.reference import OnMissing

from interfacial.errors import InterfacialError
from interfacial.settings import InterfacialSettings

J_PER_M2 = 1.602176634e-19 / 1e-20  # 1 eV/A^2 in J/m^2
TINY = {
    "metal_millers": [[1, 1, 0], [1, 0, 0]],
    "compound_millers": [[1, 0, 0]],
    "n_refine": 1,
    "prescreen": {"metal_thickness": 4.0, "compound_thickness": 4.0, "max_atoms": 60},
    "refine": {
        "metal_thickness": 5.0,
        "compound_thickness": 5.0,
        "registries": [[0.0, 0.0], [0.5, 0.5]],
        "gaps": [2.0],
        "max_atoms": 80,
    },
}


def _settings(tmp_path: Path) -> InterfacialSettings:
    return InterfacialSettings(data_dir=tmp_path / "db")


# --------------------------------------------------------------------------------------------
# Tier plumbing
# --------------------------------------------------------------------------------------------


def _candidate() -> Any:
    from interfacial.structures.library import load_structure
    from interfacial.structures.matching import find_matches

    li, licl = load_structure("Li"), load_structure("LiCl")
    matches = find_matches(li, licl, [1, 1, 0], [1, 0, 0], metal_thickness=4, compound_thickness=4)
    return li, licl, matches[0]


def test_interface_id_without_tier_is_the_first_release_one_and_ends_with_the_tier() -> None:
    from interfacial.jobs.interface import make_interface_id

    _, _, cand = _candidate()
    plain = make_interface_id("m", "c", cand, 3)
    assert plain == "m/c/1,1,0/1,0,0/3"
    tiered = make_interface_id(
        "m",
        "c",
        cand,
        3,
        metal_terminations=["t0-Li"],
        compound_terminations=["t0-LiCl"],
        tier="prescreen",
        settings_hash="abcd1234",
    )
    assert tiered == "m/c/1,1,0/1,0,0/3/t0-Li|t0-LiCl/abcd1234/prescreen"


def test_termination_filter_builds_only_those_and_names_a_wrong_label() -> None:
    from interfacial.structures.interfaces import build_interface_models

    li, licl, cand = _candidate()
    options = {"metal_thickness": 4.0, "compound_thickness": 4.0, "registries": [[0, 0]]}
    models = build_interface_models(li, licl, cand, **options, compound_terminations=["t0-LiCl"])
    assert models and {m.compound_termination for m in models} == {"t0-LiCl"}
    with pytest.raises(InterfacialError, match=r"t7-Cl.*not among its usable terminations"):
        build_interface_models(li, licl, cand, **options, compound_terminations=["t7-Cl"])


def test_tier_hash_changes_with_the_settings_not_with_the_package_version() -> None:
    from interfacial.forcefields.chgnet import ENGINE
    from interfacial.jobs.interface import tier_hash

    relax = ENGINE.relax_maker("interface relax", fmax=0.1)
    strained = ENGINE.relax_maker("strained bulk relax", fmax=0.1)
    options = {"metal_thickness": 6.0, "gaps": [2.0]}
    first = tier_hash(options, ["fully-relaxed"], relax, strained)
    assert first == tier_hash(dict(options), ["fully-relaxed"], relax, strained)
    assert first != tier_hash({**options, "gaps": [2.5]}, ["fully-relaxed"], relax, strained)
    looser = ENGINE.relax_maker("interface relax", fmax=0.2)
    assert first != tier_hash(options, ["fully-relaxed"], looser, strained)
    # What is kept of each step does not change the result: the same hash.
    keeps_all = dataclasses.replace(relax, ionic_step_data=("energy", "forces", "mol_or_struct"))
    assert first == tier_hash(options, ["fully-relaxed"], keeps_all, strained)


def test_interface_keys_and_documents_carry_the_tier_and_old_ones_read_as_none() -> None:
    from interfacial.schemas.interface import InterfaceDocument
    from interfacial.schemas.roles import InterfaceKeys, ScreenTierKeys

    assert InterfaceKeys.model_fields["tier"].default is None
    assert InterfaceDocument.model_fields["tier"].default is None
    keys = {"screening_id": "s", "electrolyte": "LiCl", "metal": "Li", "calculator": "CHGNet"}
    ScreenTierKeys(**keys, tier="refine", tier_calculator="VASP")
    with pytest.raises(ValueError, match="tier"):
        ScreenTierKeys(**keys, tier="final", tier_calculator="VASP")


# --------------------------------------------------------------------------------------------
# The maker
# --------------------------------------------------------------------------------------------


def _maker(**options: Any) -> Any:
    from interfacial import engines

    settings = InterfacialSettings()
    return engines.calculator("CHGNet").screening_maker(settings, **options)  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("option", "value", "message"),
    [
        ("n_refine", -1, "n_refine -1 must be an integer >= 0"),
        ("cells_per_pair", 0, "cells_per_pair 0 must be an integer >= 1"),
        ("max_mismatch", 0.9, "max_mismatch 0.9 is outside"),
        ("min_area_fraction", 1.5, "min_area_fraction 1.5 is outside"),
        ("metal_millers", [], "metal_millers is empty"),
        ("compound_millers", [[1, 2]], "compound_millers: "),
    ],
)
def test_maker_refuses_bad_options_in_one_line(option: str, value: Any, message: str) -> None:
    with pytest.raises(InterfacialError, match=message) as info:
        _maker(**{option: value})
    assert "\n" not in str(info.value)


def test_maker_is_json_serialisable_and_make_changes_nothing() -> None:
    from pymatgen.core import Structure

    from interfacial.flows.screening import ScreeningMaker
    from interfacial.screening.reduction import product_structures, reduce_electrolyte
    from interfacial.structures.library import load_structure

    maker = _maker(metal_millers=[[1, 1, 0]], n_refine=1)
    before = json.dumps(maker.as_dict(), sort_keys=True, default=str)
    again = ScreeningMaker.from_dict(json.loads(before))
    assert again.n_refine == 1 and again.prescreen_maker.max_atoms == 90
    products = product_structures("Li")
    reduction = reduce_electrolyte("LiCl", "Li", products)
    flow = maker.make(load_structure("Li"), {"LiCl": products["LiCl"]}, reduction)
    assert json.dumps(maker.as_dict(), sort_keys=True, default=str) == before
    assert isinstance(flow, Flow)
    json.dumps(flow.as_dict(), default=str)  # travels through FireWorks
    assert isinstance(products["LiCl"], Structure)


def test_tiers_prescreen_is_at_most_a_fifth_of_refine_in_atom_steps() -> None:
    # The design target: the cheap tier costs <= 1/5 of the refine tier per candidate.
    from interfacial.api.screening import _models, _steps

    tiers = _maker().tier_settings()
    pre, ref = tiers["prescreen"], tiers["refine"]
    thickness = {
        t: s["metal_thickness"] + s["compound_thickness"] for t, s in (("p", pre), ("r", ref))
    }
    cost_pre = thickness["p"] * _models(pre) * _steps(pre["relax_fmax"])
    cost_ref = thickness["r"] * _models(ref) * _steps(ref["relax_fmax"])
    assert cost_pre <= cost_ref / 5


# --------------------------------------------------------------------------------------------
# The flow (built on the built-in structures: nothing stored)
# --------------------------------------------------------------------------------------------


def test_flow_names_roles_and_failure_tolerance(tmp_path: Path) -> None:
    from jobflow.managers.fireworks import flow_to_workflow

    from interfacial.api.screening import screen_flow
    from interfacial.campaign.fireworks import route
    from interfacial.schemas.roles import Role, read_keys, tagged_job

    flow = screen_flow("Li3PS4", metal="Li", settings=_settings(tmp_path), **TINY)
    names = [j.name for j, _ in flow.iterflow()]
    assert len(names) == len(set(names)), "job names must be unique"
    for name in (
        "screen candidates Li3PS4|Li",
        "screen prescreen Li3PS4|Li",
        "screen refine Li3PS4|Li",
        "screening summary Li3PS4|Li",
    ):
        assert name in names
    summary = tagged_job(flow, Role.SCREENING)
    keys = read_keys(summary)
    assert keys.screening_id == "Li3PS4|Li|CHGNet"  # type: ignore[attr-defined]
    assert summary.config.on_missing_references == OnMissing.NONE
    prescreen = next(j for j, _ in flow.iterflow() if j.name == "screen prescreen Li3PS4|Li")
    refine = next(j for j, _ in flow.iterflow() if j.name == "screen refine Li3PS4|Li")
    assert prescreen.config.expose_store and refine.config.expose_store
    assert refine.config.on_missing_references == OnMissing.NONE
    # Three surface flows (Li, Li3P, Li2S) narrowed to the requested facets.
    assert not (tmp_path / "db").exists() or not any((tmp_path / "db").iterdir())
    workflow = flow_to_workflow(route(flow, "dft-queue"), store=None)  # type: ignore[arg-type]
    assert all(fw.spec["_category"] == "dft-queue" for fw in workflow.fws)
    by_name = {fw.name: fw for fw in workflow.fws}
    assert by_name["screening summary Li3PS4|Li"].spec.get("_allow_fizzled_parents")
    assert by_name["screen refine Li3PS4|Li"].spec.get("_allow_fizzled_parents")


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"electrolyte": "Xx9Q"}, "electrolyte"),
        ({"electrolyte": "Li6PS5Cl", "metal": "Fe"}, "metal 'Fe' is not an alkali metal"),
        ({"electrolyte": "LiNaS"}, "several alkali metals"),
        ({"electrolyte": "Li6PS5Cl", "wrong": 1}, "unknown screening option 'wrong'"),
        ({"electrolyte": "Li6PS5Cl", "refine": {"gap": 2}}, "unknown refine tier setting 'gap'"),
        ({"electrolyte": "Li6PS5Cl", "calculator": "XYZ"}, "unknown calculator 'XYZ'"),
        ({"electrolyte": "Li6PS5Cl", "compounds": ["nofile.cif"]}, "nofile.cif"),
    ],
)
def test_bad_input_is_one_line_before_any_job(
    tmp_path: Path, kwargs: dict[str, Any], message: str
) -> None:
    from interfacial.api.screening import screen_flow, screen_plan

    for function in (screen_flow, screen_plan):
        with pytest.raises(InterfacialError, match=message) as info:
            function(settings=_settings(tmp_path), **kwargs)
        assert "\n" not in str(info.value)
    assert not (tmp_path / "db").exists()


def test_plan_runs_nothing_and_bounds_the_candidates(tmp_path: Path) -> None:
    from interfacial.api.screening import screen_plan

    plan = screen_plan("Li3PS4", metal="Li", settings=_settings(tmp_path), **TINY)
    assert plan["reaction"] == "Li3PS4 + 8 Li -> Li3P + 4 Li2S"
    assert plan["exact"] is False and plan["reused"] == []
    assert plan["facets"]["Li"] == "to be computed (requested: (100), (110))"
    assert plan["n_candidates"] == len(plan["atoms_per_model"]) > 0
    cost = plan["estimated_cost"]
    assert cost["total_s"] == pytest.approx(
        cost["prescreen_s"] + cost["refine_s"] + cost["surfaces_s"], abs=2
    )
    assert cost["surfaces_s"] > 0
    assert not (tmp_path / "db").exists()


# --------------------------------------------------------------------------------------------
# Reuse lookups on hand-filled stores
# --------------------------------------------------------------------------------------------


def _surface_material(material: str, bulk_uuid: str, calculator: str, millers: list) -> dict:
    return {
        "bulk_uuid": bulk_uuid,
        "material": material,
        "formula": material,
        "calculator": calculator,
        "lattice": np.eye(3).tolist(),
        "facets": [
            {"miller_index": m, "termination": "t0-Li", "surface_energy": 0.3 + 0.01 * i}
            for i, m in enumerate(millers)
        ],
        "terminations": [
            {
                "miller_index": m,
                "termination": "t0-Li",
                "surface_energy": 0.3 + 0.01 * i,
                "surface_id": f"{bulk_uuid}/{i}",
            }
            for i, m in enumerate(millers)
        ],
        "lowest_facet": millers[0],
        "all_converged": True,
        "flow_completed_at": "2024-01-01T00:00:00",
        "last_updated": "2024-01-01T00:00:00",
    }


def test_stored_surfaces_are_found_only_for_the_same_calculator_and_covered_facets(
    tmp_path: Path,
) -> None:
    from interfacial.api.screening import stored_surfaces
    from interfacial.stores import SURFACE_MATERIALS, derived_store, get_job_store
    from interfacial.structures.library import load_structure

    settings = _settings(tmp_path)
    li = load_structure("Li")
    store = derived_store(SURFACE_MATERIALS, "bulk_uuid", settings)
    store.connect()
    store.update(
        [
            _surface_material("Li", "b-chg", "CHGNet", [[1, 1, 0], [1, 0, 0]]),
            _surface_material("Li", "b-sev", "SevenNet", [[1, 1, 0], [1, 0, 0], [1, 1, 1]]),
        ],
        key="bulk_uuid",
    )
    store.close()
    jobs = get_job_store(settings)
    jobs.connect()
    for uuid, energy in (("b-chg", -3.8), ("b-sev", -3.7)):
        jobs.docs_store.update(
            [
                {
                    "uuid": uuid,
                    "index": 1,
                    "output": {"structure": li.as_dict(), "output": {"energy": energy}},
                }
            ],
            key=["uuid", "index"],
        )
    jobs.close()
    found = stored_surfaces("Li", "CHGNet", {(1, 1, 0)}, settings, li)
    assert found is not None and found.uuid == "b-chg" and found.energy == -3.8
    # (0,1,0) is (1,0,0) by the cubic symmetry of Li.
    assert stored_surfaces("Li", "CHGNet", {(0, 1, 0)}, settings, li) is not None
    assert stored_surfaces("Li", "CHGNet", {(1, 1, 1)}, settings, li) is None
    assert stored_surfaces("Li", "SevenNet", {(1, 1, 1)}, settings, li).uuid == "b-sev"
    assert stored_surfaces("Na", "CHGNet", {(1, 1, 0)}, settings, li) is None


def test_stored_energetics_reads_the_newest_output_of_the_interface_id() -> None:
    from maggma.stores import MemoryStore

    from interfacial.jobs.screening import stored_energetics
    from interfacial.schemas.roles import Role

    docs = MemoryStore()
    docs.connect()

    def task(uuid: str, iid: str, completed: str, output: Any) -> dict:
        keys = {"role": Role.INTERFACE_ENERGETICS.value, "interface_id": iid, "calculator": "c"}
        return {
            "uuid": uuid,
            "index": 1,
            "completed_at": completed,
            "metadata": {"interfacial": keys},
            "output": output,
        }

    docs.update(
        [
            task("a", "x/prescreen", "2024-01-01", [{"E_f": 1.0}]),
            task("b", "x/prescreen", "2024-02-01", [{"E_f": 2.0}]),
            task("c", "y/prescreen", "2024-03-01", None),
        ],
        key="uuid",
    )
    assert stored_energetics(docs, "x/prescreen") == [{"E_f": 2.0}]
    assert stored_energetics(docs, "y/prescreen") is None  # a job without output
    assert stored_energetics(docs, "z/prescreen") is None
    assert stored_energetics(None, "x/prescreen") is None


def test_a_missing_result_is_recorded_as_failed_and_not_refined() -> None:
    from interfacial.jobs.screening import NO_RESULT, with_tier
    from interfacial.schemas.screening import ScreeningCandidate

    def cand(cid: str) -> ScreeningCandidate:
        return ScreeningCandidate(
            candidate_id=cid,
            product="LiCl",
            metal_miller=[1, 1, 0],
            compound_miller=[1, 0, 0],
            metal_termination="t0-Li",
            compound_termination="t0-LiCl",
            cell=0,
            mismatch=0.01,
            angle_mismatch=0.0,
            area=50.0,
            n_atoms=40,
        )

    model = {
        "calculator": "CHGNet",
        "interface_id": "i",
        "model_id": "i/m",
        "E_f": 0.3,
        "sigma": 0.25,
        "strain_energy": 0.05,
        "W_adhesion": 0.2,
        "W_adhesion_eq5": 0.15,
        "gamma_metal": 0.3,
        "gamma_compound": 0.15,
        "wets": False,
        "strong_adhesion": False,
        "n_atoms": 40,
    }
    output = {
        "selected": ["a", "b", "c"],
        "results": {"a": [model, {**model, "E_f": 0.5}], "b": None},
        "failed": {"c": "no symmetric model"},
        "reused": ["a"],
    }
    done = {
        c.candidate_id: c for c in with_tier([cand("a"), cand("b"), cand("c")], output, "prescreen")
    }
    assert done["a"].prescreen is not None and done["a"].prescreen.n_models == 2
    assert done["a"].prescreen.E_f == 0.3 and done["a"].prescreen.reused
    assert done["b"].prescreen is None and done["b"].failed == {"prescreen": NO_RESULT}
    assert done["c"].failed == {"prescreen": "no symmetric model"}
    nothing = with_tier([cand("a")], None, "refine")
    assert "refine" in nothing[0].failed


# --------------------------------------------------------------------------------------------
# One real screen (CHGNet)
# --------------------------------------------------------------------------------------------


@job
def _fail(structure: Any) -> None:
    raise RuntimeError("forced failure of this candidate")


@dataclass
class _FailingRelaxMaker(Maker):
    name: str = "failing relax"

    def make(self, structure: Any) -> Any:
        return _fail(structure)


def _relaxation_count(settings: InterfacialSettings) -> int:
    from interfacial.schemas.roles import Role, role_filter
    from interfacial.stores import get_job_store

    store = get_job_store(settings)
    store.connect()
    try:
        roles = [Role.BULK, Role.SLAB, Role.INTERFACE, Role.STRAINED_BULK]
        return store.docs_store.count(role_filter(roles))
    finally:
        store.close()


@pytest.fixture(scope="module")
def screen_runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    import interfacial.jobs.screening as screening_jobs
    from interfacial.api.screening import run_screen

    settings = InterfacialSettings(data_dir=tmp_path_factory.mktemp("screen-db"))
    target = "Li(100)t0-Li|LiCl(100)t0-LiCl"
    original = screening_jobs.candidate_jobs

    def failing(candidate: Any, interface_id: str, text: str, *args: Any, **kwargs: Any) -> Any:
        if text.startswith(target) and text.endswith("prescreen"):
            # args[10] is the interface relax maker (after metal ... compound surfaces).
            args = (*args[:10], _FailingRelaxMaker(), *args[11:])
        return original(candidate, interface_id, text, *args, **kwargs)

    runs: dict[str, Any] = {"settings": settings, "target": target}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        screening_jobs.candidate_jobs = failing  # type: ignore[assignment]
        try:
            runs["first"] = run_screen("LiCl", settings=settings, show_progress=False, **TINY)
        finally:
            screening_jobs.candidate_jobs = original  # type: ignore[assignment]
        runs["second"] = run_screen("LiCl", settings=settings, show_progress=False, **TINY)
        runs["relaxations_before"] = _relaxation_count(settings)
        runs["third"] = run_screen("LiCl", settings=settings, show_progress=False, **TINY)
        runs["relaxations_after"] = _relaxation_count(settings)
    return runs


@pytest.mark.slow
def test_failed_candidate_is_recorded_and_the_screen_completes(screen_runs: dict) -> None:
    first = screen_runs["first"]
    by_id = {c["candidate_id"].split("#")[0]: c for c in first["candidates"]}
    failed = by_id[screen_runs["target"]]
    assert failed["prescreen"] is None and "prescreen" in failed["failed"]
    others = [c for c in first["candidates"] if c is not failed]
    assert others and all(c["prescreen"] is not None for c in others)
    assert first["dominant"]["LiCl"] != failed["candidate_id"]
    assert any("gave no result" in n for n in first["notes"])
    # The refine tier took the top one of LiCl among those that finished.
    assert sum(c["refine"] is not None for c in first["candidates"]) == 1


@pytest.mark.slow
def test_a_second_identical_screen_runs_no_relaxation(screen_runs: dict) -> None:
    assert screen_runs["relaxations_after"] == screen_runs["relaxations_before"]
    third = screen_runs["third"]
    assert all(f["reused"] for f in third["facets"])
    for c in third["candidates"]:
        assert c["prescreen"]["reused"] and not c["failed"]
    # The repaired candidate of the second run has its result now.
    assert all(c["prescreen"] is not None for c in screen_runs["second"]["candidates"])


@pytest.mark.slow
def test_interface_documents_carry_their_tier(screen_runs: dict) -> None:
    from interfacial.api.results import query_interfaces

    docs = query_interfaces(settings=screen_runs["settings"], lowest_only=False, latest_only=False)
    assert {d["tier"] for d in docs} == {"prescreen", "refine"}
    for d in docs:
        assert d["interface_id"].endswith("/" + d["tier"])


@pytest.mark.slow
def test_builder_reproduces_the_summary_and_is_idempotent(screen_runs: dict) -> None:
    from interfacial.api.results import build
    from interfacial.api.screening import query_screening
    from interfacial.stores import SCREENING, derived_store

    settings = screen_runs["settings"]
    assert build(settings)["screening"] == 0
    stored = query_screening(settings, electrolyte="LiCl", metal="Li")
    assert len(stored) == 1 and stored[0]["run_uuid"] == screen_runs["third"]["run_uuid"]
    assert len(query_screening(settings, latest_only=False)) == 3
    store = derived_store(SCREENING, "run_uuid", settings)
    store.connect()
    store.remove_docs({})
    store.close()
    assert build(settings)["screening"] == 3
    again = query_screening(settings)[0]
    for before, after in zip(stored[0]["candidates"], again["candidates"], strict=True):
        for tier in ("prescreen", "refine"):
            if before[tier] is not None:
                assert after[tier]["W_adhesion"] == pytest.approx(before[tier]["W_adhesion"])
                assert after[tier]["rank"] == before[tier]["rank"]


@pytest.mark.slow
def test_w_of_a_candidate_matches_the_stored_task_energies(screen_runs: dict) -> None:
    """Eq. 4 recomputed here: W = gamma_m + gamma_c - sigma, sigma from the strained bulks."""
    from pymatgen.core import Structure

    from interfacial.api.results import query_interfaces, query_surfaces
    from interfacial.stores import get_job_store

    settings = screen_runs["settings"]
    result = next(c["refine"] for c in screen_runs["third"]["candidates"] if c["refine"])
    doc = next(
        d
        for d in query_interfaces(settings=settings, lowest_only=False, latest_only=False)
        if d["model_id"] == result["model_id"]
    )
    gammas = {d["surface_id"]: d["surface_energy"] for d in query_surfaces(settings=settings)}
    store = get_job_store(settings)
    store.connect()
    try:

        def task(uuid: str) -> dict:
            return store.docs_store.query_one({"uuid": uuid}, sort={"index": -1})

        model = task(doc["interface_uuid"])
        structure = Structure.from_dict(model["output"]["structure"])
        n_cl = structure.composition["Cl"]
        n_li = structure.composition["Li"] - n_cl
        area = float(np.linalg.norm(np.cross(*structure.lattice.matrix[:2])))
        strained_li = task(doc["strained_metal_uuid"])["output"]
        strained_licl = task(doc["strained_compound_uuid"])["output"]
        e_li_z = strained_li["output"]["energy"] / len(strained_li["structure"]["sites"])
        e_licl_z = (
            strained_licl["output"]["energy"]
            / Structure.from_dict(strained_licl["structure"]).composition["Cl"]
        )
        sigma = (model["output"]["output"]["energy"] - n_li * e_li_z - n_cl * e_licl_z) / (2 * area)
        w = gammas[doc["metal_surface_id"]] + gammas[doc["compound_surface_id"]] - sigma * J_PER_M2
    finally:
        store.close()
    assert result["W_adhesion"] == pytest.approx(w, abs=1e-9)


def _fake_materials() -> dict[str, dict[str, Any]]:
    from interfacial.structures.library import load_structure

    def surfaces(material: str, termination: str, miller: list[int]) -> dict[str, Any]:
        doc = _surface_material(material, f"b-{material}", "CHGNet", [miller])
        for entry in (*doc["facets"], *doc["terminations"]):
            entry["termination"] = termination
        return doc

    return {
        "Li": {
            "structure": load_structure("Li"),
            "energy": -3.8,
            "uuid": "b-Li",
            "surfaces": surfaces("Li", "t0-Li", [1, 1, 0]),
            "reused": True,
        },
        "LiCl": {
            "structure": load_structure("LiCl"),
            "energy": -28.0,
            "uuid": "b-LiCl",
            "surfaces": surfaces("LiCl", "t0-LiCl", [1, 0, 0]),
            "reused": True,
        },
    }


def test_refine_on_another_calculator_computes_its_bulks_surfaces_and_matches_again() -> None:
    from interfacial.jobs.screening import screen_candidates_document, screen_tier

    maker = _maker(refine_calculator="VASP", n_refine=1)
    assert maker.refine_calculator == "VASP" and maker.refine_surface_maker is not None
    assert maker.refine_maker.compound_thickness == 10.0 and maker.refine_maker.max_atoms == 600
    materials = _fake_materials()
    candidates = screen_candidates_document(
        materials, "Li", ["LiCl"], maker.selection(), maker.match_options(), 90, 1, "s"
    )
    (cid,) = [c.candidate_id for c in candidates.candidates]
    prescreen = {"selected": [cid], "results": {cid: None}, "failed": {}}
    refine = maker.refine_maker
    spec = {
        "calculator": refine.calculator,
        "model_options": refine.model_options(),
        "relaxations": list(refine.relaxations),
        "adhesion_threshold": refine.adhesion_threshold,
        "max_atoms": refine.max_atoms,
    }
    args = (
        candidates,
        materials,
        "refine",
        spec,
        refine.interface_relax_maker,
        refine.strained_bulk_relax_maker,
    )
    # The pre-screen gave no result: nothing to refine, no job.
    response = screen_tier.original(*args, prescreen, 1, maker.refine_surface_maker, {})
    assert response.replace is None and response.output["selected"] == []
    model = {"E_f": 0.3, "W_adhesion": 0.2, "interface_id": "i", "model_id": "m"}
    model.update(dict.fromkeys(("sigma", "strain_energy", "W_adhesion_eq5"), 0.1))
    model.update({"gamma_metal": 0.3, "gamma_compound": 0.1, "n_atoms": 40})
    model.update({"calculator": "CHGNet", "wets": False, "strong_adhesion": False})
    prescreen["results"] = {cid: [model]}
    response = screen_tier.original(
        *args, prescreen, 1, maker.refine_surface_maker, maker.refine_match_options()
    )
    names = [j.name for j, _ in response.replace.iterflow()]
    assert "bulk relax Li (refine VASP)" in names
    assert f"match {cid} refine" in names and f"interface calculations {cid} refine" in names
    calc = next(j for j, _ in response.replace.iterflow() if j.name.startswith("interface calc"))
    assert calc.function_kwargs["tier"] == "refine"
    assert calc.function_kwargs["metal_terminations"] == ["t0-Li"]
    assert response.replace.output["results"][cid].uuid == calc.uuid


def test_prescreen_fanout_tags_the_tier_and_tolerates_failed_models() -> None:
    from interfacial.jobs.interface import interface_energetics
    from interfacial.jobs.screening import screen_candidates_document, screen_tier
    from interfacial.schemas.roles import InterfaceKeys, Role, read_keys, tagged_jobs

    maker = _maker(prescreen={"metal_thickness": 4.0, "compound_thickness": 4.0})
    pre = maker.prescreen_maker
    materials = _fake_materials()
    candidates = screen_candidates_document(
        materials, "Li", ["LiCl"], maker.selection(), maker.match_options(), 60, 1, "s"
    )
    (cid,) = [c.candidate_id for c in candidates.candidates]
    spec = {
        "calculator": pre.calculator,
        "model_options": pre.model_options(),
        "relaxations": list(pre.relaxations),
        "adhesion_threshold": pre.adhesion_threshold,
        "max_atoms": pre.max_atoms,
    }
    response = screen_tier.original(
        candidates,
        materials,
        "prescreen",
        spec,
        pre.interface_relax_maker,
        pre.strained_bulk_relax_maker,
    )
    flow = response.replace
    (energetics,) = tagged_jobs(flow, Role.INTERFACE_ENERGETICS)
    assert energetics.name == f"interface energetics {cid} prescreen"
    assert energetics.config.on_missing_references == OnMissing.NONE
    assert flow.output["results"][cid].uuid == energetics.uuid
    for relax in tagged_jobs(flow, Role.INTERFACE):
        keys = read_keys(relax, InterfaceKeys)
        assert keys.tier == "prescreen" and keys.interface_id.endswith("/prescreen")
        assert keys.metal_termination == "t0-Li" and keys.compound_termination == "t0-LiCl"
    # A model without energy is left out; without a strained bulk there is no result.
    args = (
        [{}],
        [None],
        ["u"],
        -1.0,
        1,
        "sm",
        -1.0,
        1,
        "sc",
        -1.0,
        -1.0,
        "m",
        "c",
        {},
        {},
        "c",
        0.5,
    )
    assert interface_energetics.original(*args) == []
    no_strain = list(args)
    no_strain[3] = None
    assert interface_energetics.original(*no_strain) == []
