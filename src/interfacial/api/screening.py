"""The screening funnel: from an electrolyte to ranked metal||product interfaces.

The command line (``interfacial screen``), the campaign's ``screen:`` stage and Python call
only the four functions here: :func:`screen_flow` (the Flow, not run), :func:`screen_plan`
(a dry run: what would be computed and an estimate of the cost, nothing run),
:func:`run_screen` (run here, build, return the ScreeningDocument) and
:func:`query_screening`.

Every input error is one line before any job exists: the electrolyte, metal and compounds
(:mod:`interfacial.screening.reduction`), every option (the makers), facet filters and limits
that admit no candidate when the surfaces are stored (otherwise the candidates job fails with
that line and nothing derived is stored).
"""

from __future__ import annotations

import dataclasses
import itertools
import math
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from interfacial import engines
from interfacial.errors import InterfacialError
from interfacial.settings import InterfacialSettings, get_settings

if TYPE_CHECKING:
    from collections.abc import Sequence

    from jobflow import Flow
    from pymatgen.core import Structure

    from interfacial.flows.screening import ScreeningMaker, StoredSurfaces
    from interfacial.screening.reduction import Reduction

#: Cost of a CHGNet relaxation per atom and optimiser step (s). Measured with the task
#: documents' ``elapsed_time`` and ``n_steps`` of ``run_screen("Li6PS5Cl", metal="Li")`` on 2
#: cores shared with other work (load 5-8, one torch thread: OMP_NUM_THREADS=1): 8.7 ms for
#: the pre-screen models (72 atoms on average), 6.0 ms for the refine models (82 atoms),
#: 10 ms for the slabs (25 atoms); small cells cost more per atom.
SECONDS_PER_ATOM_STEP = 7e-3
#: Mean optimiser steps of a model relaxation at the tiers' force criteria (eV/A), from the
#: same run (45 at 0.1, 66 at 0.05); 0.02 extrapolated.
EXPECTED_STEPS = {0.1: 45, 0.05: 66, 0.02: 100}
#: Mean steps of a slab relaxation (same run, 0.02 eV/A from a bulk-terminated slab).
SURFACE_STEPS = 32
#: A surface flow: about two slab thicknesses per termination until gamma converges.
SURFACE_SLABS_PER_TERMINATION = 2
#: Time of a job outside its relaxation on the embedded store (writing its document,
#: resolving its inputs): about 4 s per relaxation and 18 s per energetics job in that run.
JOB_OVERHEAD_S = 4.0


def _options_error(exc: TypeError, allowed: Sequence[str]) -> InterfacialError:
    text = str(exc)
    name = text.split("'")[1] if "'" in text else text
    return InterfacialError(
        f"unknown screening option '{name}'; allowed: {', '.join(sorted(allowed))}"
    )


def _metal(electrolyte: str | Path, metal: str | None) -> str:
    """The metal given, or the alkali metal of the electrolyte (one line if none or several)."""
    from interfacial.screening.reduction import (
        ALKALI_METALS,
        check_metal,
        electrolyte_composition,
    )

    if metal is not None:
        return check_metal(metal)
    label, composition = electrolyte_composition(electrolyte)
    found = [str(e) for e in composition.elements if str(e) in ALKALI_METALS]
    if len(found) != 1:
        what = "no alkali metal" if not found else f"several alkali metals ({', '.join(found)})"
        raise InterfacialError(
            f"electrolyte '{label}' holds {what}; give the metal, e.g. --metal Li"
        )
    return found[0]


@dataclass
class _Screen:
    """Everything a screen is made of, validated."""

    maker: ScreeningMaker
    reduction: Reduction
    metal_bulk: Structure
    products: dict[str, Structure]
    reused: dict[str, StoredSurfaces]
    settings: InterfacialSettings


def _maker(
    calculator: str,
    refine_calculator: str | None,
    settings: InterfacialSettings,
    options: dict[str, Any],
) -> ScreeningMaker:
    from interfacial.flows.interface import InterfaceEnergeticsMaker
    from interfacial.flows.screening import ScreeningMaker

    allowed = [
        *(f.name for f in dataclasses.fields(ScreeningMaker) if f.name != "name"),
        "max_index",
        "prescreen",
        "refine",
    ]
    allowed.remove("metadata")
    for key in ("surface_maker", "prescreen_maker", "refine_maker", "refine_surface_maker"):
        allowed.remove(key)
    unknown = sorted(set(options) - set(allowed))
    if unknown:
        raise InterfacialError(
            f"unknown screening option '{unknown[0]}'; allowed: {', '.join(sorted(allowed))}"
        )
    tier_fields = [
        *(f.name for f in dataclasses.fields(InterfaceEnergeticsMaker)),
        "relax_fmax",
    ]
    for tier in ("prescreen", "refine"):
        overrides = options.get(tier) or {}
        if not isinstance(overrides, dict):
            raise InterfacialError(f"{tier} must be a mapping of tier settings, e.g. gaps: [2.0]")
        bad = sorted(set(overrides) - set(tier_fields) - {"name"})
        bad += [k for k in overrides if k in ("surface_maker", "name", "calculator")]
        if bad:
            raise InterfacialError(
                f"unknown {tier} tier setting '{bad[0]}'; allowed: metal_thickness, "
                "compound_thickness, gaps, registries, max_atoms, relaxations, relax_fmax, "
                "adhesion_threshold"
            )
    engine = engines.calculator(calculator)
    clean = {k: v for k, v in options.items() if v is not None}
    try:
        return engine.screening_maker(settings, refine_calculator, **clean)
    except TypeError as exc:
        raise _options_error(exc, allowed) from None


def _conventional(structure: Structure) -> Structure:
    from pymatgen.symmetry.analyzer import SpacegroupAnalyzer

    return SpacegroupAnalyzer(structure).get_conventional_standard_structure()


def _needed_facets(
    maker: ScreeningMaker, structure: Structure, is_metal: bool
) -> set[tuple[int, ...]]:
    """The facets a material's surfaces must cover: the requested ones, else all to max_index."""
    conventional = _conventional(structure)
    wanted = maker.requested_facets(is_metal, conventional)
    if wanted is not None:
        return {tuple(m) for m in wanted}
    assert maker.surface_maker is not None
    return {tuple(m) for m in maker.surface_maker.facets(conventional)}


def stored_surfaces(
    label: str,
    calculator: str,
    needed: set[tuple[int, ...]],
    settings: InterfacialSettings,
    structure: Structure | None = None,
) -> StoredSurfaces | None:
    """A finished surface result of ``label`` on ``calculator`` covering ``needed`` facets.

    From the derived ``surface_materials`` collection (only finished flows are built there),
    the newest run covering every needed facet (computed or reported polar; with
    ``structure``, a facet equivalent by its symmetry counts), with its bulk relaxation from
    the jobs store. Reads only; None when there is none.
    """
    from pymatgen.core import Structure

    from interfacial.api.results import finished_rank
    from interfacial.flows.screening import StoredSurfaces, same_facet
    from interfacial.schemas.surface import SurfaceMaterialDocument
    from interfacial.stores import SURFACE_MATERIALS, derived_store, get_job_store

    store = derived_store(SURFACE_MATERIALS, "bulk_uuid", settings, read_only=True)
    store.connect()
    try:
        docs = list(store.query({"material": label, "calculator": calculator}))
    finally:
        store.close()
    docs.sort(key=finished_rank, reverse=True)
    jobs = get_job_store(settings, read_only=True)
    for doc in docs:
        computed = {tuple(f["miller_index"]) for f in doc.get("facets") or []} | {
            tuple(m["miller_index"]) for m in doc.get("missing_facets") or []
        }
        if not all(
            facet in computed
            or (structure is not None and any(same_facet(structure, facet, c) for c in computed))
            for facet in needed
        ):
            continue
        jobs.connect()
        try:
            bulk = jobs.docs_store.query_one(
                {"uuid": doc["bulk_uuid"]}, properties=["output"], sort={"index": -1}
            )
        finally:
            jobs.close()
        output = (bulk or {}).get("output")
        if not isinstance(output, dict) or output.get("structure") is None:
            continue
        return StoredSurfaces(
            surfaces=SurfaceMaterialDocument.model_validate(
                {k: v for k, v in doc.items() if k != "_id"}
            ),
            structure=Structure.from_dict(output["structure"]),
            energy=float(output["output"]["energy"]),
            uuid=str(doc["bulk_uuid"]),
        )
    return None


def _prepare(
    electrolyte: str | Path,
    metal: str | None,
    compounds: Sequence[str | Path] | None,
    calculator: str | None,
    refine_calculator: str | None,
    settings: InterfacialSettings | None,
    options: dict[str, Any],
) -> _Screen:
    """Validate everything and find the stored surfaces; nothing is written."""
    from interfacial.screening.reduction import product_structures, reduce_electrolyte
    from interfacial.structures.library import load_structure

    settings = settings or get_settings()
    calc = engines.canonical("calculator", calculator or settings.calculator)
    refine = engines.canonical("calculator", refine_calculator) if refine_calculator else calc
    metal_symbol = _metal(electrolyte, metal)
    candidates = product_structures(metal_symbol, compounds)
    reduction = reduce_electrolyte(electrolyte, metal_symbol, candidates)
    maker = _maker(calc, refine, settings, dict(options))
    metal_bulk = _conventional(load_structure(metal_symbol))
    products = {p.label: _conventional(candidates[p.label]) for p in reduction.products}
    _check_facet_cost(maker, metal_symbol, metal_bulk, products)
    reused: dict[str, StoredSurfaces] = {}
    for label, structure in ((metal_symbol, metal_bulk), *products.items()):
        needed = _needed_facets(maker, structure, label == metal_symbol)
        found = stored_surfaces(label, calc, needed, settings, structure)
        if found is not None:
            reused[label] = found
    return _Screen(maker, reduction, metal_bulk, products, reused, settings)


def _check_facet_cost(
    maker: ScreeningMaker, metal: str, metal_bulk: Structure, products: dict[str, Structure]
) -> None:
    """Requested facets whose thinnest slab is huge are refused (one line) before any job."""
    from interfacial.validation import check_facet_cost

    assert maker.surface_maker is not None
    for label, structure in ((metal, metal_bulk), *products.items()):
        for miller in maker.requested_facets(label == metal, structure) or []:
            check_facet_cost(
                structure,
                (miller[0], miller[1], miller[2]),
                maker.surface_maker.min_thickness,
                what=f"{label} facet",
            )


def _build_time_candidates(screen: _Screen) -> Any:
    """The candidates when every surface is stored (exact, before any job), else None."""
    from interfacial.flows.screening import screening_id
    from interfacial.jobs.screening import screen_candidates_document

    maker = screen.maker
    metal = screen.reduction.metal
    labels = [metal, *screen.products]
    if any(label not in screen.reused for label in labels):
        return None
    materials = {
        label: {
            "structure": screen.reused[label].structure,
            "energy": screen.reused[label].energy,
            "uuid": screen.reused[label].uuid,
            "surfaces": screen.reused[label].surfaces,
            "reused": True,
        }
        for label in labels
    }
    assert maker.prescreen_maker is not None
    return screen_candidates_document(
        materials,
        metal,
        list(screen.products),
        maker.selection(),
        maker.match_options(),
        maker.prescreen_maker.max_atoms,
        maker.cells_per_pair,
        screening_id(
            screen.reduction.electrolyte, metal, maker.calculator, maker.refine_calculator
        ),
    )


def screen_flow(
    electrolyte: str | Path,
    *,
    metal: str | None = None,
    compounds: Sequence[str | Path] | None = None,
    calculator: str | None = None,
    refine_calculator: str | None = None,
    settings: InterfacialSettings | None = None,
    **options: Any,
) -> Flow:
    """Validate the input and return the screening Flow (not run).

    Parameters
    ----------
    electrolyte
        Formula (Li6PS5Cl), alias (LiPON) or structure file.
    metal
        The metal (default: the electrolyte's alkali metal).
    compounds
        Candidate products instead of the built-in binaries of the metal (names or files).
    calculator
        Surfaces and pre-screen (default ``settings.calculator``).
    refine_calculator
        Refine tier (default: ``calculator``).
    settings
        Where stored surfaces are looked up (reused when they cover the facets).
    options
        ScreeningMaker fields (min_area_fraction, max_gamma_ratio, include_lowest,
        termination_tolerance, metal_millers, compound_millers, cells_per_pair, n_refine,
        max_area, max_mismatch, max_angle_mismatch), ``max_index`` of the surfaces, and
        ``prescreen`` / ``refine``: dicts of tier overrides (metal_thickness,
        compound_thickness, gaps, registries, max_atoms, relaxations, relax_fmax).

    """
    screen = _prepare(
        electrolyte, metal, compounds, calculator, refine_calculator, settings, options
    )
    _build_time_candidates(screen)  # limits that admit nothing fail here, when known
    return screen.maker.make(screen.metal_bulk, screen.products, screen.reduction, screen.reused)


def _steps(fmax: float | None) -> int:
    """Expected optimiser steps at ``fmax`` (eV/A), interpolated in log(fmax)."""
    if fmax is None:
        return EXPECTED_STEPS[0.02]
    keys = sorted(EXPECTED_STEPS)
    if fmax <= keys[0]:
        return EXPECTED_STEPS[keys[0]]
    if fmax >= keys[-1]:
        return EXPECTED_STEPS[keys[-1]]
    for low, high in itertools.pairwise(keys):
        if low <= fmax <= high:
            t = (math.log(fmax) - math.log(low)) / (math.log(high) - math.log(low))
            return round(EXPECTED_STEPS[low] + t * (EXPECTED_STEPS[high] - EXPECTED_STEPS[low]))
    return EXPECTED_STEPS[0.02]  # pragma: no cover


def _tier_seconds(candidate: Any, atoms: float, tier: dict[str, Any]) -> float:
    """Estimated seconds of one candidate on one tier: its distinct models, strained bulks."""
    from interfacial.structures.interfaces import distinct_registries

    models = (
        len(distinct_registries(candidate, tier["registries"]))
        * len(tier["gaps"])
        * len(tier["relaxations"])
    )
    relax = atoms * _steps(tier["relax_fmax"]) * SECONDS_PER_ATOM_STEP
    # Two strained bulks and the energetics: a few steps each, mostly job overhead.
    return models * (relax + JOB_OVERHEAD_S) + 3 * JOB_OVERHEAD_S


def _cost(
    maker: ScreeningMaker,
    tiers: dict[str, dict[str, Any]],
    geometry: dict[str, tuple[str, Any]],
    surfaces_s: float,
    products: list[str],
) -> dict[str, Any]:
    """The plan's cost estimate (CHGNet-like force fields only; null for other calculators)."""
    if maker.calculator not in ("CHGNet", "SevenNet"):
        return {
            "prescreen_s": None,
            "refine_s": None,
            "surfaces_s": None,
            "total_s": None,
            "basis": f"no cost model for {maker.calculator}",
        }
    pre, ref = tiers["prescreen"], tiers["refine"]

    def thickness(tier: dict[str, Any]) -> float:
        return float(tier["compound_thickness"] or 10.0) + float(tier["metal_thickness"] or 12.0)

    # A refined model holds about the pre-screen atoms x the ratio of the slab thicknesses.
    scale = thickness(ref) / thickness(pre)
    prescreen_s = sum(_tier_seconds(c, c.n_atoms, pre) for _, c in geometry.values())
    refine_s: float | None = None
    if maker.refine_calculator == maker.calculator:
        refine_s = 0.0
        for product in products:
            costs = sorted(
                (
                    _tier_seconds(c, c.n_atoms * scale, ref)
                    for p, c in geometry.values()
                    if p == product
                ),
                reverse=True,
            )
            # Which ones the pre-screen picks is not known: the mean of the product's candidates.
            if costs:
                refine_s += min(maker.n_refine, len(costs)) * sum(costs) / len(costs)
    total = surfaces_s + prescreen_s + (refine_s or 0.0)
    return {
        "prescreen_s": round(prescreen_s),
        "refine_s": None if refine_s is None else round(refine_s),
        "surfaces_s": round(surfaces_s),
        "total_s": round(total),
        "basis": (
            f"atoms x expected optimiser steps x distinct models x {SECONDS_PER_ATOM_STEP * 1e3:g} "
            f"ms per atom-step + {JOB_OVERHEAD_S:g} s per job (CHGNet measured on 2 shared "
            "cores with one torch thread)"
        ),
    }


def _models(settings: dict[str, Any]) -> int:
    return len(settings["registries"]) * len(settings["gaps"]) * len(settings["relaxations"])


def screen_plan(
    electrolyte: str | Path,
    *,
    metal: str | None = None,
    compounds: Sequence[str | Path] | None = None,
    calculator: str | None = None,
    refine_calculator: str | None = None,
    settings: InterfacialSettings | None = None,
    **options: Any,
) -> dict[str, Any]:
    """What a screen would compute and an estimate of its cost; runs no calculation.

    The candidates are exact when every surface is stored (the screen's own matching on the
    stored relaxed bulks); otherwise an upper bound from the unrelaxed bulks: every facet up
    to ``max_index`` that has a symmetric termination, every termination, ``cells_per_pair``
    cells per pair that matches (``exact: False``). Cost: atoms x expected optimiser steps x
    models x :data:`SECONDS_PER_ATOM_STEP` (CHGNet, 2 cores); other calculators are not
    estimated (null).
    """
    from interfacial.jobs.interface import candidate_from_document
    from interfacial.screening.rules import candidate_id, facet_label
    from interfacial.structures.matching import NoMatchError, find_matches, select_candidates
    from interfacial.structures.slabs import enumerate_terminations
    from interfacial.validation import slab_atoms_estimate

    screen = _prepare(
        electrolyte, metal, compounds, calculator, refine_calculator, settings, options
    )
    maker = screen.maker
    assert maker.prescreen_maker is not None and maker.surface_maker is not None
    metal_label = screen.reduction.metal
    structures = {metal_label: screen.metal_bulk, **screen.products}
    tiers = maker.tier_settings()
    exact = _build_time_candidates(screen)
    facets: dict[str, Any] = {}
    atoms: dict[str, int] = {}
    pairs: list[str] = []
    surfaces_s = 0.0
    if exact is not None:
        for selection in exact.facets:
            facets[selection.material] = [
                f"{facet_label(f.miller_index)} {'/'.join(f.terminations)}"
                for f in selection.chosen
            ]
        atoms = {c.candidate_id: c.n_atoms for c in exact.candidates}
        geometry = {
            c.candidate_id: (c.product, candidate_from_document(exact.matches[c.candidate_id]))
            for c in exact.candidates
        }
        pairs = sorted({cid.split("#")[0] for cid in atoms})
        n_candidates = len(exact.candidates)
        skipped = exact.skipped_pairs
    else:
        terms: dict[str, dict[tuple[int, ...], list[str]]] = {}
        for label, structure in structures.items():
            found = {}
            for miller in sorted(_needed_facets(maker, structure, label == metal_label)):
                facet = enumerate_terminations(structure, miller)  # type: ignore[arg-type]
                usable = [t.label for t in facet.terminations if t.symmetric]
                if usable:
                    found[miller] = usable
            terms[label] = found
            if label in screen.reused:
                facets[label] = [f"{facet_label(m)} {'/'.join(t)}" for m, t in found.items()]
                continue
            scope = (
                "requested"
                if maker.requested_facets(label == metal_label, structure) is not None
                else f"up to max_index {maker.surface_maker.max_index}"
            )
            facets[label] = (
                f"to be computed ({scope}: " + ", ".join(facet_label(m) for m in found) + ")"
            )
            slab_atoms = sum(
                slab_atoms_estimate(
                    structure, (m[0], m[1], m[2]), maker.surface_maker.min_thickness
                )
                * len(t)
                for m, t in found.items()
            )
            n_slabs = SURFACE_SLABS_PER_TERMINATION * sum(len(t) for t in found.values())
            surfaces_s += (
                len(structure) * EXPECTED_STEPS[0.02]
                + SURFACE_SLABS_PER_TERMINATION * slab_atoms * SURFACE_STEPS
            ) * SECONDS_PER_ATOM_STEP + (1 + n_slabs) * JOB_OVERHEAD_S
        n_candidates = 0
        skipped = []
        geometry = {}
        for m_miller, m_terms in terms[metal_label].items():
            for product in screen.products:
                for c_miller, c_terms in terms[product].items():
                    pair = f"{metal_label}{facet_label(m_miller)}|{product}{facet_label(c_miller)}"
                    try:
                        matches = find_matches(
                            screen.metal_bulk,
                            screen.products[product],
                            list(m_miller),
                            list(c_miller),
                            **maker.match_options(),
                        )
                        kept = select_candidates(
                            matches, maker.prescreen_maker.max_atoms, maker.cells_per_pair
                        )
                    except (NoMatchError, InterfacialError) as exc:
                        skipped.append({"pair": pair, "reason": " ".join(str(exc).split())})
                        continue
                    pairs.append(pair)
                    for cell in kept:
                        n_candidates += len(m_terms) * len(c_terms)
                        for mt in m_terms:
                            for ct in c_terms:
                                cid = candidate_id(
                                    metal_label, m_miller, mt, product, c_miller, ct, cell
                                )
                                atoms[cid] = matches[cell].n_atoms
                                geometry[cid] = (product, matches[cell])
    cost = _cost(maker, tiers, geometry, surfaces_s, list(screen.products))
    return {
        "reaction": screen.reduction.equation(),
        "products": [p.model_dump() for p in screen.reduction.documents()],
        "calculator": maker.calculator,
        "refine_calculator": maker.refine_calculator,
        "facets": facets,
        "pairs": pairs,
        "skipped_pairs": skipped,
        "n_candidates": n_candidates,
        "exact": exact is not None,
        "atoms_per_model": atoms,
        "n_refine": maker.n_refine,
        "tier_settings": tiers,
        "estimated_cost": cost,
        "reused": sorted(screen.reused),
    }


def run_screen(
    electrolyte: str | Path,
    *,
    metal: str | None = None,
    compounds: Sequence[str | Path] | None = None,
    calculator: str | None = None,
    refine_calculator: str | None = None,
    settings: InterfacialSettings | None = None,
    show_progress: bool = True,
    **options: Any,
) -> dict[str, Any]:
    """Run the screen here, build, and return the ScreeningDocument (``model_dump``).

    A candidate whose calculation failed does not stop the screen: it is recorded in its
    ``failed`` entry. The screen fails (one line) only when its summary could not be made.
    """
    from interfacial.api.results import build, run_directory
    from interfacial.runner import run_flow
    from interfacial.schemas.roles import Role, tagged_job
    from interfacial.stores import check_writable, get_job_store

    settings = settings or get_settings()
    flow = screen_flow(
        electrolyte,
        metal=metal,
        compounds=compounds,
        calculator=calculator,
        refine_calculator=refine_calculator,
        settings=settings,
        **options,
    )
    for name in {calculator or settings.calculator, refine_calculator or ""} - {""}:
        engines.calculator(name).check_can_run_locally(settings)
    check_writable(settings)
    failure: InterfacialError | None = None
    try:
        run_flow(
            flow, get_job_store(settings), run_directory(settings), show_progress=show_progress
        )
    except InterfacialError as exc:  # failed candidates: the summary may still be there
        failure = exc
    summary = tagged_job(flow, Role.SCREENING)
    build(settings)
    found = _read_screening(settings, {"run_uuid": summary.uuid})
    if not found:
        # The surfaces are stored now: limits that admit no candidate give their own line.
        _build_time_candidates(
            _prepare(
                electrolyte, metal, compounds, calculator, refine_calculator, settings, options
            )
        )
        raise failure or InterfacialError(
            "the screen finished without its summary; see the job store for the failed jobs"
        )
    return found[0]


def _read_screening(
    settings: InterfacialSettings, criteria: dict[str, Any]
) -> list[dict[str, Any]]:
    from interfacial.stores import SCREENING, derived_store

    store = derived_store(SCREENING, "run_uuid", settings, read_only=True)
    store.connect()
    try:
        return [{k: v for k, v in d.items() if k != "_id"} for d in store.query(criteria)]
    finally:
        store.close()


def query_screening(
    settings: InterfacialSettings | None = None,
    *,
    electrolyte: str | None = None,
    metal: str | None = None,
    latest_only: bool = True,
) -> list[dict[str, Any]]:
    """Stored screening documents (the derived ``screening`` collection), newest first.

    ``latest_only`` keeps the newest run of each screening_id (electrolyte, metal and
    calculators), by when its flow finished.
    """
    from interfacial.api.results import finished_rank

    settings = settings or get_settings()
    criteria: dict[str, Any] = {}
    if electrolyte:
        criteria["electrolyte"] = electrolyte
    if metal:
        criteria["metal"] = metal
    docs = sorted(_read_screening(settings, criteria), key=finished_rank, reverse=True)
    if latest_only:
        seen: set[str] = set()
        newest = []
        for doc in docs:
            if doc["screening_id"] not in seen:
                seen.add(doc["screening_id"])
                newest.append(doc)
        docs = newest
    return docs
