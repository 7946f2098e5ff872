"""Jobs of the screening funnel: candidates, one fan-out per tier, the summary.

``screen candidates``: the facets of every material (:func:`select_facets`) and the lattice
matches of every metal facet x product facet, crossed with their terminations.
``screen prescreen`` / ``screen refine``: one interface calculation per candidate (model
relaxations, strained bulks, energetics, tagged with the tier), or the stored result of an
earlier identical calculation. ``screening summary``: the ScreeningDocument.

A candidate whose calculation fails must not sink the screen. jobflow passes outputs, not
absences, so each tier's fan-out returns (through ``Response(replace=Flow(...))``) a mapping
candidate_id -> the energetics job's output, and the jobs reading it (the refine fan-out and
the summary) take it with ``on_missing_references=OnMissing.NONE``: a failed candidate's entry
resolves to None and is recorded in ``failed``. ``run_locally`` runs such a job although a
parent failed, and FireWorks too (jobflow sets ``_allow_fizzled_parents`` on its Firework).

Grouping keys go into each job's ``metadata['interfacial']`` (roles screen_candidates,
screen_tier, screening of :mod:`interfacial.schemas.roles`).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from jobflow import Flow, Job, Maker, Response, job
from pydantic import BaseModel, Field

from interfacial.errors import InterfacialError
from interfacial.jobs.interface import (
    candidate_from_document,
    candidate_jobs,
    interface_calculations,
    make_interface_id,
    tier_hash,
)
from interfacial.schemas.interface import MatchCandidateDocument, MatchReport
from interfacial.schemas.roles import Role, role_filter, tag
from interfacial.schemas.screening import (
    PRESCREEN,
    REFINE,
    TIERS,
    FacetSelectionDocument,
    ScreeningCandidate,
    ScreeningDocument,
    TierResult,
)
from interfacial.schemas.surface import SurfaceMaterialDocument, utcnow
from interfacial.screening.rules import (
    candidate_id,
    dominant_by_product,
    facet_label,
    rank_by_adhesion,
    select_facets,
    tier_spearman,
    top_per_product,
    transport_recommendations,
)

if TYPE_CHECKING:
    from pymatgen.core import Structure

#: Line recorded for a candidate whose jobs ran but gave no result.
NO_RESULT = "its calculation gave no result (a job failed or did not finish; see the job store)"


class ScreenCandidatesDocument(BaseModel):
    """Output of the candidates job: chosen facets, candidates with their cells, skipped pairs."""

    screening_id: str
    metal: str
    facets: list[FacetSelectionDocument] = Field(description="The metal first, then products")
    gamma_metal: dict[str, float] = Field(description="Metal facet '(110)' -> lowest gamma")
    candidates: list[ScreeningCandidate] = Field(description="Without tier results")
    matches: dict[str, MatchCandidateDocument] = Field(description="candidate_id -> its cell")
    skipped_pairs: list[dict[str, Any]] = Field(default_factory=list)
    last_updated: datetime = Field(default_factory=utcnow)


# --------------------------------------------------------------------------------------------
# Candidates (pure: also called when a flow is built on stored surfaces, and by the dry run)
# --------------------------------------------------------------------------------------------


def _surfaces(material: Mapping[str, Any]) -> SurfaceMaterialDocument:
    value = material["surfaces"]
    if isinstance(value, SurfaceMaterialDocument):
        return value
    if value is None:
        raise InterfacialError("a surface flow of the screen gave no result")
    return SurfaceMaterialDocument.model_validate(
        {k: v for k, v in dict(value).items() if k != "_id"}
    )


def narrow_millers(
    requested: Sequence[Sequence[int]] | None,
    surfaces: SurfaceMaterialDocument,
    structure: Structure,
) -> list[list[int]] | None:
    """The computed facets equivalent (by the crystal's symmetry) to the requested ones.

    A requested facet no computed facet is equivalent to is dropped; when none is left the
    request is returned as given, so that :func:`select_facets` names the problem in one line.
    """
    if requested is None:
        return None
    from pymatgen.core.surface import get_symmetrically_equivalent_miller_indices

    computed = [tuple(f.miller_index) for f in surfaces.facets]
    found: list[list[int]] = []
    for miller in requested:
        images = {
            tuple(int(i) for i in m)
            for m in get_symmetrically_equivalent_miller_indices(
                structure, tuple(int(i) for i in miller), return_hkil=False
            )
        }
        found.extend(list(c) for c in computed if c in images and list(c) not in found)
    return found or [list(m) for m in requested]


def facet_selections(
    materials: Mapping[str, Mapping[str, Any]], metal: str, selection: Mapping[str, Any]
) -> dict[str, FacetSelectionDocument]:
    """The facet selection of every material (``materials``: label -> structure, surfaces...).

    ``selection``: min_area_fraction, max_gamma_ratio, include_lowest, termination_tolerance,
    metal_millers, compound_millers (the last two narrow the metal's / every product's facets).
    """
    rules = {
        k: selection[k]
        for k in ("min_area_fraction", "max_gamma_ratio", "include_lowest", "termination_tolerance")
        if selection.get(k) is not None
    }
    out = {}
    for label, material in materials.items():
        surfaces = _surfaces(material)
        wanted = selection.get("metal_millers" if label == metal else "compound_millers")
        out[label] = select_facets(
            surfaces,
            **rules,
            millers=narrow_millers(wanted, surfaces, material["structure"]),
            bulk_uuid=material["uuid"],
            reused=bool(material.get("reused")),
        )
    return out


def _one_line(error: Exception) -> str:
    return " ".join(str(error).split())


def screen_candidates_document(
    materials: Mapping[str, Mapping[str, Any]],
    metal: str,
    products: Sequence[str],
    selection: Mapping[str, Any],
    match_options: Mapping[str, Any],
    max_atoms: int,
    cells_per_pair: int,
    screening_id: str,
) -> ScreenCandidatesDocument:
    """Every metal facet/termination x product facet/termination x kept cell.

    Cells: :func:`find_matches` with the pre-screen tier's thicknesses, the best
    ``cells_per_pair`` by mismatch then size within ``max_atoms`` (:func:`select_candidates`).
    A pair with no such cell goes to ``skipped_pairs`` with the reason.

    Raises
    ------
    InterfacialError
        When no pair has a candidate (one line with the limits to widen).

    """
    from interfacial.structures.matching import NoMatchError, find_matches, select_candidates

    selections = facet_selections({k: materials[k] for k in (metal, *products)}, metal, selection)
    metal_doc = _surfaces(materials[metal])
    candidates: list[ScreeningCandidate] = []
    cells: dict[str, MatchCandidateDocument] = {}
    skipped: list[dict[str, Any]] = []
    for metal_facet in selections[metal].chosen:
        for product in products:
            for facet in selections[product].chosen:
                pair = (
                    f"{metal}{facet_label(metal_facet.miller_index)}|"
                    f"{product}{facet_label(facet.miller_index)}"
                )
                try:
                    matches = find_matches(
                        materials[metal]["structure"],
                        materials[product]["structure"],
                        metal_facet.miller_index,
                        facet.miller_index,
                        **match_options,
                    )
                    kept = select_candidates(matches, max_atoms, cells_per_pair)
                except NoMatchError as exc:
                    skipped.append({"pair": pair, "reason": _one_line(exc)})
                    continue
                except InterfacialError as exc:  # every cell above max_atoms
                    skipped.append({"pair": pair, "reason": _one_line(exc)})
                    continue
                for cell in kept:
                    match = matches[cell]
                    for m_term in metal_facet.terminations:
                        for c_term in facet.terminations:
                            cid = candidate_id(
                                metal,
                                metal_facet.miller_index,
                                m_term,
                                product,
                                facet.miller_index,
                                c_term,
                                cell,
                            )
                            cells[cid] = MatchCandidateDocument(**match.as_dict())
                            candidates.append(
                                ScreeningCandidate(
                                    candidate_id=cid,
                                    product=product,
                                    metal_miller=list(metal_facet.miller_index),
                                    compound_miller=list(facet.miller_index),
                                    metal_termination=m_term,
                                    compound_termination=c_term,
                                    cell=cell,
                                    mismatch=float(match.mismatch),
                                    angle_mismatch=float(match.angle_mismatch),
                                    area=float(match.area),
                                    n_atoms=int(match.n_atoms),
                                )
                            )
    if not candidates:
        reasons = "; ".join(f"{s['pair']}: {s['reason']}" for s in skipped[:2])
        limits = ", ".join(
            f"{k} {match_options[k]:g}"
            for k in ("max_area", "max_mismatch", "max_angle_mismatch")
            if match_options.get(k) is not None
        )
        raise InterfacialError(
            f"no facet pair of {metal} with {', '.join(products)} has a candidate within the "
            f"limits ({limits}, max_atoms {max_atoms}); raise max_area, max_mismatch or the "
            f"tier's max_atoms ({reasons[:300]})"
        )
    return ScreenCandidatesDocument(
        screening_id=screening_id,
        metal=metal,
        facets=[selections[metal], *(selections[p] for p in products)],
        gamma_metal={facet_label(f.miller_index): f.surface_energy for f in metal_doc.facets},
        candidates=candidates,
        matches=cells,
        skipped_pairs=skipped,
    )


@job(output_schema=ScreenCandidatesDocument)
def screen_candidates(
    materials: dict[str, dict[str, Any]],
    metal: str,
    products: list[str],
    selection: dict[str, Any],
    match_options: dict[str, Any],
    max_atoms: int,
    cells_per_pair: int,
    screening_id: str,
) -> ScreenCandidatesDocument:
    """Choose the facets and lattice-match every facet/termination pair (no calculation)."""
    return screen_candidates_document(
        materials,
        metal,
        products,
        selection,
        match_options,
        max_atoms,
        cells_per_pair,
        screening_id,
    )


# --------------------------------------------------------------------------------------------
# Tier results
# --------------------------------------------------------------------------------------------


def _flatten(value: Any) -> list[dict[str, Any]]:
    """InterfaceDocuments (as dicts) of a tier output entry; None and missing parts dropped."""
    if value is None:
        return []
    if isinstance(value, BaseModel):
        return [value.model_dump()]
    if isinstance(value, Mapping):
        return [dict(value)]
    out: list[dict[str, Any]] = []
    for item in value:
        out.extend(_flatten(item))
    return out


def tier_result_from_models(models: Any, tier: str, reused: bool = False) -> TierResult | None:
    """A candidate's TierResult from the InterfaceDocuments of its models (lowest E_f wins).

    ``models``: the energetics job's output or the derived documents of one interface_id
    (dicts or documents; nested lists and None entries allowed). None when there is none.
    """
    docs = [d for d in _flatten(models) if d.get("E_f") is not None]
    if not docs:
        return None
    best = min(docs, key=lambda d: float(d["E_f"]))
    return TierResult(
        tier=tier,
        calculator=best["calculator"],
        interface_id=best["interface_id"],
        model_id=best["model_id"],
        E_f=best["E_f"],
        sigma=best["sigma"],
        strain_energy=best["strain_energy"],
        W_adhesion=best["W_adhesion"],
        W_adhesion_eq5=best["W_adhesion_eq5"],
        gamma_metal=best["gamma_metal"],
        gamma_compound=best["gamma_compound"],
        wets=best["wets"],
        strong_adhesion=best["strong_adhesion"],
        n_atoms=best["n_atoms"],
        n_models=len(docs),
        rank=0,
        reused=reused,
    )


def with_tier(
    candidates: Sequence[ScreeningCandidate], output: Mapping[str, Any] | None, tier: str
) -> list[ScreeningCandidate]:
    """Copies of ``candidates`` with their result on ``tier`` from a tier fan-out's output.

    A candidate selected for the tier with no result gets a line in ``failed``; ``output``
    None (the fan-out itself failed) marks every candidate the tier would have computed.
    """
    out = []
    results = dict((output or {}).get("results") or {})
    failed = dict((output or {}).get("failed") or {})
    reused = set((output or {}).get("reused") or [])
    selected = (output or {}).get("selected")
    for candidate in candidates:
        c = candidate.model_copy(deep=True)
        cid = c.candidate_id
        if output is None:
            c.failed[tier] = f"the {tier} fan-out job gave no result"
        elif cid in failed:
            c.failed[tier] = failed[cid]
        elif cid in results:
            result = tier_result_from_models(results[cid], tier, reused=cid in reused)
            if result is None:
                c.failed[tier] = NO_RESULT
            else:
                setattr(c, tier, result)
        elif selected is not None and cid in selected:
            c.failed[tier] = NO_RESULT
        out.append(c)
    return out


# --------------------------------------------------------------------------------------------
# One tier's fan-out
# --------------------------------------------------------------------------------------------


def stored_energetics(store: Any, interface_id: str) -> list[dict[str, Any]] | None:
    """The stored output of the newest energetics job of ``interface_id`` (None if none)."""
    if store is None:
        return None
    doc = store.query_one(
        role_filter(Role.INTERFACE_ENERGETICS, interface_id=interface_id),
        properties=["output", "uuid", "index"],
        sort={"completed_at": -1},
    )
    if doc is None or not isinstance(doc.get("output"), list) or not doc["output"]:
        return None
    return list(doc["output"])


def _refine_choice(
    candidates: ScreenCandidatesDocument, prescreen: Mapping[str, Any] | None, n: int
) -> list[str]:
    ranked = with_tier(candidates.candidates, prescreen, PRESCREEN)
    return top_per_product(ranked, n, PRESCREEN)


@job
def screen_tier(
    candidates: ScreenCandidatesDocument | None,
    materials: dict[str, dict[str, Any]],
    tier: str,
    spec: dict[str, Any],
    interface_relax_maker: Maker,
    strained_bulk_relax_maker: Maker,
    prescreen: dict[str, Any] | None = None,
    n_refine: int = 0,
    refine_surface_maker: Maker | None = None,
    match_options: dict[str, Any] | None = None,
) -> Response:
    """Fan out one tier: the interface calculation of every candidate it computes.

    The pre-screen computes every candidate, the refine tier the top ``n_refine`` per product
    by pre-screen W (Eq. 4). A candidate whose interface_id (bulks, facets, terminations,
    cell, tier and settings hash) already has a stored energetics output in the JobStore this
    job runs with (``CURRENT_JOB.store``; the job is made with ``expose_store``) is reused
    rather than recomputed. With ``refine_surface_maker`` (a refine calculator other than the
    surfaces'), the refine tier also relaxes both bulks and computes the two facets' surfaces
    with it, and matches each candidate's cell again on those bulks.

    Output (through the replacing flow): ``{'tier', 'calculator', 'settings_hash',
    'selected', 'results': {candidate_id: energetics output}, 'reused': [...],
    'failed': {candidate_id: line}}``.
    """
    from jobflow import CURRENT_JOB

    if candidates is None:
        raise InterfacialError(f"the {tier} tier has no candidates: the candidates job failed")
    if tier not in TIERS:
        raise InterfacialError(f"unknown tier {tier!r}; use {', '.join(TIERS)}")
    if tier == PRESCREEN:
        selected = [c.candidate_id for c in candidates.candidates]
    else:
        selected = _refine_choice(candidates, prescreen, n_refine)
    settings_hash = tier_hash(
        spec["model_options"], spec["relaxations"], interface_relax_maker, strained_bulk_relax_maker
    )
    out: dict[str, Any] = {
        "tier": tier,
        "calculator": spec["calculator"],
        "settings_hash": settings_hash,
        "selected": selected,
        "results": {},
        "reused": [],
        "failed": {},
    }
    by_id = {c.candidate_id: c for c in candidates.candidates}
    metal = candidates.metal
    args = (
        interface_relax_maker,
        strained_bulk_relax_maker,
        spec["calculator"],
        spec["model_options"],
        list(spec["relaxations"]),
        spec["adhesion_threshold"],
    )
    jobs: list[Job | Flow] = []
    if refine_surface_maker is not None and tier == REFINE and selected:
        jobs = _other_calculator(
            [by_id[c] for c in selected],
            candidates,
            materials,
            refine_surface_maker,
            match_options or {},
            spec,
            args,
            out,
        )
    else:
        store = getattr(CURRENT_JOB, "store", None)
        for cid in selected:
            c = by_id[cid]
            m, p = materials[metal], materials[c.product]
            match = candidates.matches[cid]
            terms: dict[str, Any] = {
                "metal_terminations": [c.metal_termination],
                "compound_terminations": [c.compound_termination],
            }
            interface_id = make_interface_id(
                m["uuid"],
                p["uuid"],
                match,
                c.cell,
                **terms,
                tier=tier,
                settings_hash=settings_hash,
            )
            stored = stored_energetics(store, interface_id)
            if stored is not None:
                out["results"][cid] = stored
                out["reused"].append(cid)
                continue
            try:
                new, energetics = candidate_jobs(
                    candidate_from_document(match),
                    interface_id,
                    f"{cid} {tier}",
                    metal,
                    c.product,
                    m["structure"],
                    p["structure"],
                    m["energy"],
                    p["energy"],
                    m["uuid"],
                    p["uuid"],
                    m["surfaces"],
                    p["surfaces"],
                    *args,
                    energetics_name=f"interface energetics {cid} {tier}",
                    tier=tier,
                    settings_hash=settings_hash,
                    **terms,
                )
            except InterfacialError as exc:  # e.g. no symmetric model of this pair
                out["failed"][cid] = _one_line(exc)
                continue
            jobs.extend(new)
            out["results"][cid] = energetics.output
    if not jobs:
        return Response(output=out)
    return Response(replace=Flow(jobs, output=out))


def _other_calculator(
    chosen: list[ScreeningCandidate],
    candidates: ScreenCandidatesDocument,
    materials: Mapping[str, Mapping[str, Any]],
    surface_maker: Maker,
    match_options: Mapping[str, Any],
    spec: Mapping[str, Any],
    args: tuple[Any, ...],
    out: dict[str, Any],
) -> list[Job | Flow]:
    """Refine on another calculator: its bulks and surfaces of the facets, then each candidate.

    One surface flow per material over the facets the chosen candidates need (like the
    interface flow does for its pair), then per candidate a match on the new bulks (keeping
    the pre-screen cell's supercell matrices when they still match) and the interface
    calculation of its terminations.
    """
    from interfacial.flows.surface import bulk_relaxation

    metal = candidates.metal
    needed: dict[str, list[list[int]]] = {}
    for c in chosen:
        for label, miller in ((metal, c.metal_miller), (c.product, c.compound_miller)):
            if list(miller) not in needed.setdefault(label, []):
                needed[label].append(list(miller))
    jobs: list[Job | Flow] = []
    sides: dict[str, tuple[Any, Job]] = {}
    for label, millers in needed.items():
        maker: Any = dataclasses.replace(surface_maker, millers=millers)  # type: ignore[call-arg]
        flow: Flow = maker.make(materials[label]["structure"], label)
        flow.append_name(f" ({REFINE} {spec['calculator']})")
        jobs.append(flow)
        sides[label] = (flow, bulk_relaxation(flow))
    for c in chosen:
        (metal_flow, metal_bulk), (product_flow, product_bulk) = sides[metal], sides[c.product]
        match = match_cell(
            metal_bulk.output.structure,
            product_bulk.output.structure,
            metal,
            c.product,
            c.metal_miller,
            c.compound_miller,
            dict(match_options),
            spec["max_atoms"],
            candidates.matches[c.candidate_id],
        )
        match.name = f"match {c.candidate_id} {REFINE}"
        tag(match, Role.MATCH, interface_key=c.candidate_id)
        calc = interface_calculations(
            match.output,
            metal_bulk.output.structure,
            product_bulk.output.structure,
            metal_bulk.output.output.energy,
            product_bulk.output.output.energy,
            metal_bulk.uuid,
            product_bulk.uuid,
            metal_flow.output,
            product_flow.output,
            *args,
            tier=REFINE,
            metal_terminations=[c.metal_termination],
            compound_terminations=[c.compound_termination],
        )
        calc.name = f"interface calculations {c.candidate_id} {REFINE}"
        tag(
            calc,
            Role.INTERFACE_FANOUT,
            interface_key=c.candidate_id,
            metal_bulk_uuid=metal_bulk.uuid,
            compound_bulk_uuid=product_bulk.uuid,
        )
        jobs.extend([match, calc])
        out["results"][c.candidate_id] = calc.output
    return jobs


@job(output_schema=MatchReport)
def match_cell(
    metal_structure: Structure,
    compound_structure: Structure,
    metal: str,
    compound: str,
    metal_miller: list[int],
    compound_miller: list[int],
    match_options: dict[str, Any],
    max_atoms: int,
    previous: MatchCandidateDocument,
) -> MatchReport:
    """Match again on other bulks and select the cell of ``previous`` (same supercells).

    When no cell has the same supercell matrices (the other calculator's lattices moved the
    coincidence), the lowest-mismatch cell within ``max_atoms`` is selected instead.
    """
    from interfacial.jobs.interface import interface_key
    from interfacial.structures.matching import find_matches, select_candidates

    found = find_matches(
        metal_structure, compound_structure, metal_miller, compound_miller, **match_options
    )
    same = [
        i
        for i, c in enumerate(found)
        if [list(map(int, r)) for r in c.metal_matrix] == previous.metal_matrix
        and [list(map(int, r)) for r in c.compound_matrix] == previous.compound_matrix
    ]
    selected = same[:1] or select_candidates(found, max_atoms, 1)
    return MatchReport(
        interface_key=interface_key(metal, metal_miller, compound, compound_miller),
        metal=metal,
        compound=compound,
        candidates=[MatchCandidateDocument(**c.as_dict()) for c in found],
        selected=selected,
        max_area=match_options.get("max_area", float("nan")),
        max_mismatch=match_options.get("max_mismatch", float("nan")),
        max_atoms=max_atoms,
    )


# --------------------------------------------------------------------------------------------
# The summary
# --------------------------------------------------------------------------------------------


def finish_document(doc: ScreeningDocument) -> ScreeningDocument:
    """Ranks per product and tier, Spearman between tiers, dominant and recommended interfaces.

    Recomputed from the candidates' tier results only, so the builder calls it again after
    refreshing those results from the derived interface documents.
    """
    for tier in TIERS:
        by_product: dict[str, dict[str, float]] = {}
        for c in doc.candidates:
            result = getattr(c, tier)
            if result is not None:
                by_product.setdefault(c.product, {})[c.candidate_id] = result.W_adhesion
        ranks = {
            k: v for values in by_product.values() for k, v in rank_by_adhesion(values).items()
        }
        for c in doc.candidates:
            result = getattr(c, tier)
            if result is not None:
                result.rank = ranks[c.candidate_id]
    doc.spearman = tier_spearman(doc.candidates)
    doc.dominant = dominant_by_product(doc.candidates)
    doc.recommended_for_transport = transport_recommendations(doc.candidates)
    return doc


def _reduction(data: Mapping[str, Any]) -> Any:
    from interfacial.screening.reduction import Reduction, ReductionProduct

    return Reduction(
        **{
            **dict(data),
            "products": tuple(ReductionProduct(**dict(p)) for p in data["products"]),
        }
    )


def product_documents(
    reduction: Mapping[str, Any], materials: Mapping[str, Mapping[str, Any]]
) -> tuple[list[Any], list[str]]:
    """The reduction products with their stability at mu_metal from the relaxed bulk energies.

    Returns the documents and notes (a check that could not run says why).
    """
    from interfacial.screening.reduction import stability_notes

    red = _reduction(reduction)
    docs = red.documents()
    notes: list[str] = []
    try:
        metal = materials[red.metal]
        checks = stability_notes(
            red,
            (metal["structure"], float(metal["energy"])),
            {
                p.label: (materials[p.label]["structure"], float(materials[p.label]["energy"]))
                for p in red.products
            },
        )
    except (InterfacialError, KeyError, TypeError, ValueError) as exc:
        notes.append(f"stability not checked: {_one_line(exc)}")
        return docs, notes
    for doc in docs:
        note = checks.get(doc.label)
        doc.stable = note is None
        doc.stability_note = note
    return docs, notes


@job(output_schema=ScreeningDocument)
def screening_summary(
    candidates: ScreenCandidatesDocument | None,
    prescreen: dict[str, Any] | None,
    refine: dict[str, Any] | None,
    materials: dict[str, dict[str, Any]],
    reduction: dict[str, Any],
    info: dict[str, Any],
) -> ScreeningDocument:
    """The ScreeningDocument from whatever finished (made with ``OnMissing.NONE``).

    ``info``: screening_id, electrolyte, calculator, refine_calculator, n_refine,
    tier_settings. A candidate whose calculation failed is kept, with a line in ``failed``.
    """
    if candidates is None:
        raise InterfacialError(
            f"screen {info['screening_id']}: the candidates job gave no result (a surface "
            "flow or the matching failed); nothing to summarise"
        )
    ranked = with_tier(with_tier(candidates.candidates, prescreen, PRESCREEN), refine, REFINE)
    products, notes = product_documents(reduction, materials)
    reused = [f.material for f in candidates.facets if f.reused]
    if reused:
        notes.append(f"surfaces reused from earlier runs: {', '.join(reused)}")
    for tier, output in ((PRESCREEN, prescreen), (REFINE, refine)):
        n_reused = len((output or {}).get("reused") or [])
        if n_reused:
            notes.append(f"{tier}: {n_reused} interface result(s) reused from earlier runs")
        failed = [c.candidate_id for c in ranked if tier in c.failed]
        if failed:
            notes.append(f"{tier}: {len(failed)} candidate(s) gave no result: {', '.join(failed)}")
    doc = ScreeningDocument(
        screening_id=info["screening_id"],
        electrolyte=info["electrolyte"],
        electrolyte_formula=reduction["formula"],
        metal=candidates.metal,
        reaction=_reduction(reduction).equation(),
        metal_coefficient=reduction["metal_coefficient"],
        products=products,
        facets=candidates.facets,
        gamma_metal=candidates.gamma_metal,
        candidates=ranked,
        skipped_pairs=candidates.skipped_pairs,
        tier_settings={
            **info["tier_settings"],
            **{
                t: {**info["tier_settings"].get(t, {}), "settings_hash": o.get("settings_hash")}
                for t, o in ((PRESCREEN, prescreen), (REFINE, refine))
                if o
            },
        },
        calculator=info["calculator"],
        refine_calculator=info["refine_calculator"],
        n_refine=info["n_refine"],
        notes=notes,
    )
    return finish_document(doc)
