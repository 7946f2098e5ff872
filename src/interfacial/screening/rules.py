"""Pure rules of the screening funnel: which facets to pair, how candidates are ranked.

Facet selection (:func:`select_facets`) reads one material's stored surface energies
(:class:`~interfacial.schemas.surface.SurfaceMaterialDocument`); ranking, rank correlation,
dominant interfaces and the transport recommendation work on
:class:`~interfacial.schemas.screening.ScreeningCandidate` objects. No store, no job: the flow,
the builder and the dry run call these.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

from interfacial.errors import InterfacialError
from interfacial.schemas.screening import (
    PRESCREEN,
    REFINE,
    FacetSelectionDocument,
    ScreeningCandidate,
    SelectedFacetDocument,
    TierResult,
)
from interfacial.schemas.surface import SurfaceMaterialDocument

#: A facet covering at least this fraction of the Wulff shape's area is paired.
DEFAULT_MIN_AREA_FRACTION = 0.05
#: A facet whose gamma is at most this multiple of the lowest gamma is paired: a universal
#: potential's gamma ordering is uncertain at that level (CHGNet puts Li2S(110) at 1.43x
#: Li2S(111), which gives it no Wulff area: the fcc octahedron is truncated by {110} only
#: below a ratio of 1.22).
DEFAULT_MAX_GAMMA_RATIO = 1.5
#: Terminations of a facet within this of its lowest gamma (J/m^2) are all paired.
DEFAULT_TERMINATION_TOLERANCE = 0.02
#: Interfaces with a larger lattice mismatch (fraction) are not recommended for transport MD.
DEFAULT_MAX_TRANSPORT_MISMATCH = 0.05

Miller = tuple[int, int, int]


def facet_label(miller: Sequence[int]) -> str:
    """Compact facet label used in candidate ids and gamma tables: '(110)', '(1-10)'."""
    return "(" + "".join(str(int(i)) for i in miller) + ")"


def _miller(value: Sequence[int]) -> Miller:
    from interfacial.structures.slabs import parse_miller

    return parse_miller(list(value) if not isinstance(value, str) else value)


def _is_polar(entry: Mapping[str, Any]) -> bool:
    """A missing facet is polar if its Tasker type is 3 or its reason says so."""
    if entry.get("tasker_type") == 3:
        return True
    reason = str(entry.get("reason") or "").lower()
    return "tasker type 3" in reason or "tasker 3" in reason


def _equivalent(lattice: Any, first: Miller, second: Miller) -> bool:
    """Whether two facets are related by the point group of the lattice (pymatgen).

    The lattice's point group can be higher than the crystal's: this is used only to suggest
    the stored representative in an error message, never to map an index silently.
    """
    from pymatgen.core import Lattice, Structure
    from pymatgen.core.surface import get_symmetrically_equivalent_miller_indices

    probe = Structure(Lattice(lattice), ["H"], [[0.0, 0.0, 0.0]])
    try:
        images = get_symmetrically_equivalent_miller_indices(probe, first, return_hkil=False)
    except Exception:  # a suggestion only: no suggestion rather than a crash
        return False
    return tuple(second) in {tuple(int(i) for i in m) for m in images}


def _check_fraction(name: str, value: float, low: float, high: float) -> float:
    number = float(value)
    if not math.isfinite(number) or not low <= number <= high:
        raise InterfacialError(
            f"{name} {value!r} is outside [{low:g}, {high:g}]; give a value in that range"
        )
    return number


def select_facets(
    surfaces: SurfaceMaterialDocument | Mapping[str, Any],
    *,
    min_area_fraction: float = DEFAULT_MIN_AREA_FRACTION,
    max_gamma_ratio: float = DEFAULT_MAX_GAMMA_RATIO,
    include_lowest: bool = True,
    termination_tolerance: float = DEFAULT_TERMINATION_TOLERANCE,
    millers: Sequence[Sequence[int]] | None = None,
    bulk_uuid: str | None = None,
    reused: bool = False,
) -> FacetSelectionDocument:
    """Choose the facets and terminations of one material to pair in the screen.

    Rules (a facet is chosen if any holds; its reasons list every rule that holds):

    - Wulff area fraction >= ``min_area_fraction`` ('Wulff area 31 %');
    - the lowest-gamma facet, if ``include_lowest`` ('lowest gamma');
    - gamma <= ``max_gamma_ratio`` x the lowest gamma ('gamma 1.43x the lowest'); the lowest
      facet satisfies this rule too (ratio 1, reason 'lowest gamma'), so ``include_lowest=False``
      drops it only with ``max_gamma_ratio < 1`` (0 turns the rule off).

    Without a Wulff shape (every ``area_fraction`` null: the facets enclose no volume) the area
    rule cannot apply; the gamma rules decide and every chosen facet says so in its reasons.
    Terminations: every computed termination of a chosen facet within
    ``termination_tolerance`` (J/m^2) of the facet's lowest gamma, lowest first; the others go
    to ``left_out`` with their gamma. Polar (Tasker type 3) facets, from ``missing_facets``,
    are reported in ``polar`` and never paired; other missing facets go to ``left_out``.

    ``millers`` narrows the choice to exactly those facets (each must have been computed and
    not be polar); their reasons start with 'requested'.

    Parameters
    ----------
    surfaces
        The material's surface document (or its dict, as stored).
    min_area_fraction
        In [0, 1].
    max_gamma_ratio
        >= 0; 1.0 keeps only the lowest facet by this rule.
    include_lowest
        Always keep the lowest-gamma facet.
    termination_tolerance
        J/m^2, >= 0.
    millers
        Facets to keep (None: the rules above).
    bulk_uuid
        Overrides the document's bulk uuid (the bulk the interfaces will be built from).
    reused
        The surfaces come from an earlier run.

    Raises
    ------
    InterfacialError
        Option values out of range, a requested facet that is polar or was not computed, or a
        selection that leaves no facet (the line names the material and the options to widen).

    """
    doc = (
        surfaces
        if isinstance(surfaces, SurfaceMaterialDocument)
        else SurfaceMaterialDocument.model_validate(dict(surfaces))
    )
    min_area_fraction = _check_fraction("min_area_fraction", min_area_fraction, 0.0, 1.0)
    max_gamma_ratio = _check_fraction("max_gamma_ratio", max_gamma_ratio, 0.0, math.inf)
    termination_tolerance = _check_fraction(
        "termination_tolerance", termination_tolerance, 0.0, math.inf
    )
    material = doc.material
    raw_missing = (surfaces.get("missing_facets") if isinstance(surfaces, Mapping) else None) or [
        m.model_dump() for m in doc.missing_facets
    ]
    polar = [list(m["miller_index"]) for m in raw_missing if _is_polar(m)]
    left_out: list[dict[str, Any]] = [
        {"miller_index": list(m["miller_index"]), "reason": str(m.get("reason") or "")}
        for m in raw_missing
        if not _is_polar(m)
    ]
    facets = {tuple(f.miller_index): f for f in doc.facets}
    if not facets:
        shown = ", ".join(facet_label(p) for p in polar) or "none"
        raise InterfacialError(
            f"{material}: no facet has a computed surface energy (polar: {shown}); raise "
            "max_index or check the material's surface run"
        )
    lowest = min(facets.values(), key=lambda f: f.surface_energy)
    gamma_min = lowest.surface_energy
    has_wulff = any(f.area_fraction is not None for f in facets.values())

    requested: list[Miller] | None = None
    if millers is not None:
        requested = [_requested(doc, _miller(m), facets, polar) for m in millers]

    chosen: list[SelectedFacetDocument] = []
    for key, facet in facets.items():
        reasons = _rule_reasons(
            facet,
            lowest=facet is lowest,
            gamma_min=gamma_min,
            has_wulff=has_wulff,
            min_area_fraction=min_area_fraction,
            max_gamma_ratio=max_gamma_ratio,
            include_lowest=include_lowest,
        )
        if requested is not None:
            if key not in requested:
                left_out.append({"miller_index": list(key), "reason": "not requested"})
                continue
            reasons = ["requested", *reasons]
        elif not reasons:
            left_out.append(
                {
                    "miller_index": list(key),
                    "reason": _left_out_reason(
                        facet, gamma_min, has_wulff, min_area_fraction, max_gamma_ratio
                    ),
                }
            )
            continue
        if not has_wulff:
            reasons.append("no Wulff shape: chosen by the gamma rules")
        kept, dropped = _terminations(doc, key, facet, termination_tolerance)
        left_out.extend(dropped)
        chosen.append(
            SelectedFacetDocument(
                material=material,
                miller_index=list(key),
                terminations=kept,
                surface_energy=facet.surface_energy,
                area_fraction=facet.area_fraction,
                reasons=reasons,
            )
        )
    if not chosen:
        raise InterfacialError(
            f"{material}: the facet selection leaves no facet (min_area_fraction "
            f"{min_area_fraction:g}, max_gamma_ratio {max_gamma_ratio:g}, include_lowest "
            f"{'on' if include_lowest else 'off'}); widen it: lower min_area_fraction, raise "
            "max_gamma_ratio or turn include_lowest on"
        )
    if requested is not None:
        order = {m: i for i, m in enumerate(requested)}
        chosen.sort(key=lambda s: order[tuple(s.miller_index)])  # type: ignore[index]
    else:
        chosen.sort(key=lambda s: s.surface_energy)
    return FacetSelectionDocument(
        material=material,
        calculator=doc.calculator,
        bulk_uuid=bulk_uuid or doc.bulk_uuid,
        reused=reused,
        chosen=chosen,
        polar=polar,
        left_out=left_out,
    )


def _requested(
    doc: SurfaceMaterialDocument,
    miller: Miller,
    facets: Mapping[tuple[int, ...], Any],
    polar: Sequence[Sequence[int]],
) -> Miller:
    """A requested facet, checked: computed and not polar (one-line error otherwise)."""
    material = doc.material
    computed = ", ".join(facet_label(k) for k in facets)
    if miller in facets:
        return miller
    if [*miller] in [list(p) for p in polar]:
        raise InterfacialError(
            f"{material} {facet_label(miller)} is polar (Tasker type 3): no symmetric slab, "
            f"never paired; choose among {computed}"
        )
    for key in [*facets, *(tuple(p) for p in polar)]:
        if _equivalent(doc.lattice, miller, key):  # type: ignore[arg-type]
            raise InterfacialError(
                f"{material} {facet_label(miller)} is stored as {facet_label(key)} (the same "
                f"facet by symmetry); give {','.join(str(i) for i in key)}"
            )
    raise InterfacialError(
        f"{material} {facet_label(miller)} was not computed (computed: {computed}); choose "
        "among these or raise max_index"
    )


def _rule_reasons(
    facet: Any,
    *,
    lowest: bool,
    gamma_min: float,
    has_wulff: bool,
    min_area_fraction: float,
    max_gamma_ratio: float,
    include_lowest: bool,
) -> list[str]:
    reasons = []
    area = facet.area_fraction
    if has_wulff and area is not None and area >= min_area_fraction and area > 0.0:
        reasons.append(f"Wulff area {100 * area:.0f} %")
    ratio = facet.surface_energy / gamma_min if gamma_min > 0 else math.inf
    if lowest and (include_lowest or max_gamma_ratio >= 1.0):
        reasons.append("lowest gamma")
    elif not lowest and ratio <= max_gamma_ratio:
        reasons.append(f"gamma {ratio:.2f}x the lowest")
    return reasons


def _left_out_reason(
    facet: Any, gamma_min: float, has_wulff: bool, min_area_fraction: float, max_ratio: float
) -> str:
    ratio = facet.surface_energy / gamma_min if gamma_min > 0 else math.inf
    parts = [f"gamma {ratio:.2f}x the lowest > {max_ratio:g}x"]
    if has_wulff and facet.area_fraction is not None:
        parts.append(
            f"Wulff area {100 * facet.area_fraction:.0f} % < {100 * min_area_fraction:g} %"
        )
    elif not has_wulff:
        parts.append("no Wulff shape")
    return ", ".join(parts)


def _terminations(
    doc: SurfaceMaterialDocument, key: tuple[int, ...], facet: Any, tolerance: float
) -> tuple[list[str], list[dict[str, Any]]]:
    """Terminations of one facet within ``tolerance`` of its lowest gamma, and the others."""
    energies = sorted(
        (t for t in doc.terminations if tuple(t.miller_index) == key),
        key=lambda t: (t.surface_energy, t.termination),
    )
    if not energies:
        # Documents without per-termination energies: the Wulff facet's termination only.
        return [facet.termination], []
    best = energies[0].surface_energy
    kept = [t.termination for t in energies if t.surface_energy - best <= tolerance + 1e-12]
    dropped = [
        {
            "miller_index": list(key),
            "termination": t.termination,
            "reason": f"gamma {t.surface_energy:.3f} J/m^2, {t.surface_energy - best:.3f} above "
            f"the facet's lowest (termination_tolerance {tolerance:g})",
        }
        for t in energies
        if t.termination not in kept
    ]
    return kept, dropped


# --------------------------------------------------------------------------------------------
# Candidates and their ranking
# --------------------------------------------------------------------------------------------


def candidate_id(
    metal: str,
    metal_miller: Sequence[int],
    metal_termination: str,
    product: str,
    compound_miller: Sequence[int],
    compound_termination: str,
    cell: int,
) -> str:
    """'<metal>(hkl)<term>|<product>(hkl)<term>#<cell>', e.g. 'Li(110)t0-Li|Li2S(110)t0-Li2S#0'."""
    return (
        f"{metal}{facet_label(metal_miller)}{metal_termination}|"
        f"{product}{facet_label(compound_miller)}{compound_termination}#{int(cell)}"
    )


def rank_by_adhesion(values: Mapping[str, float]) -> dict[str, int]:
    """Rank by W_adhesion: 1 = largest W.

    Ranks are 1..n with no shared rank: equal W are ordered by key (so the ranking is the same
    whatever order the values come in); a NaN W ranks after every number.
    """

    def order(item: tuple[str, float]) -> tuple[bool, float, str]:
        key, value = item
        bad = value is None or math.isnan(float(value))
        return (bad, 0.0 if bad else -float(value), key)

    return {key: i + 1 for i, (key, _) in enumerate(sorted(values.items(), key=order))}


def spearman(first: Sequence[float], second: Sequence[float]) -> float | None:
    """Spearman rank correlation (scipy.stats.spearmanr; ties get average ranks).

    None with fewer than 3 pairs, or when either series is constant (no ranking to compare).

    Raises
    ------
    ValueError
        If the series differ in length.

    """
    from scipy.stats import spearmanr

    if len(first) != len(second):
        raise ValueError(f"spearman: {len(first)} values against {len(second)}")
    if len(first) < 3 or len(set(first)) < 2 or len(set(second)) < 2:
        return None
    rho = spearmanr(list(first), list(second)).statistic
    value = float(rho)
    return None if math.isnan(value) else value


def tier_result(candidate: ScreeningCandidate, tier: str) -> TierResult | None:
    """The candidate's result on ``tier`` ('prescreen' or 'refine')."""
    if tier == PRESCREEN:
        return candidate.prescreen
    if tier == REFINE:
        return candidate.refine
    raise ValueError(f"unknown tier {tier!r}; use {PRESCREEN!r} or {REFINE!r}")


def _by_product(candidates: Sequence[ScreeningCandidate]) -> dict[str, list[ScreeningCandidate]]:
    groups: dict[str, list[ScreeningCandidate]] = {}
    for candidate in candidates:
        groups.setdefault(candidate.product, []).append(candidate)
    return groups


def _ranked(candidates: Sequence[ScreeningCandidate], tier: str) -> list[ScreeningCandidate]:
    """Candidates with a result on ``tier``, largest W_adhesion first (ties by id)."""
    values: dict[str, float] = {}
    index: dict[str, ScreeningCandidate] = {}
    for c in candidates:
        result = tier_result(c, tier)
        if result is not None:
            values[c.candidate_id] = result.W_adhesion
            index[c.candidate_id] = c
    ranks = rank_by_adhesion(values)
    return [index[k] for k in sorted(ranks, key=ranks.__getitem__)]


def top_per_product(
    candidates: Sequence[ScreeningCandidate], n: int, tier: str = PRESCREEN
) -> list[str]:
    """The ``n`` candidates of each product with the largest W_adhesion (Eq. 4) on ``tier``.

    Products in order of first appearance, each product's candidates best first; candidates
    without a result on the tier are never picked.
    """
    if n < 0:
        raise ValueError(f"top_per_product: n must be >= 0, got {n}")
    chosen: list[str] = []
    for group in _by_product(candidates).values():
        chosen.extend(c.candidate_id for c in _ranked(group, tier)[:n])
    return chosen


def best_tier(candidates: Sequence[ScreeningCandidate]) -> str | None:
    """The best tier with results among ``candidates``: refine if any, else prescreen."""
    if any(c.refine is not None for c in candidates):
        return REFINE
    if any(c.prescreen is not None for c in candidates):
        return PRESCREEN
    return None


def dominant_by_product(candidates: Sequence[ScreeningCandidate]) -> dict[str, str]:
    """Map each product to its candidate with the largest W_adhesion (Eq. 4) on its best tier.

    Per product, W is compared within one tier only: the refine tier when any of the product's
    candidates was refined (the others lost on the pre-screen already), else the pre-screen.
    Products with no result on either tier are absent.
    """
    result: dict[str, str] = {}
    for product, group in _by_product(candidates).items():
        tier = best_tier(group)
        if tier is None:
            continue
        result[product] = _ranked(group, tier)[0].candidate_id
    return result


def transport_recommendations(
    candidates: Sequence[ScreeningCandidate],
    max_mismatch: float = DEFAULT_MAX_TRANSPORT_MISMATCH,
) -> list[dict[str, str]]:
    """Interfaces to run transport MD on: one per product with W_adhesion > 0.

    Rule, per product (order of first appearance), on the product's best tier (see
    :func:`dominant_by_product`): the dominant candidate when its mismatch is at most
    ``max_mismatch``; otherwise the candidate with the largest W among those with W > 0 and
    mismatch <= ``max_mismatch`` (small, strongly strained cells reconstruct, so their
    dynamics is not the interface's), with the reason; when there is none, the dominant one
    with a caution. A product whose dominant W is not positive (no adhesion) gets none.

    Returns
    -------
    list of dict
        ``{'candidate_id': ..., 'product': ..., 'reason': ...}``.

    """
    recommended: list[dict[str, str]] = []
    limit = 100 * max_mismatch
    for product, group in _by_product(candidates).items():
        tier = best_tier(group)
        if tier is None:
            continue
        ranked = _ranked(group, tier)
        dominant = ranked[0]
        w = _w(dominant, tier)
        if not w > 0:
            continue
        if dominant.mismatch <= max_mismatch:
            reason = (
                f"dominant interface of {product}: W = {w:.3f} J/m^2 ({tier}), mismatch "
                f"{100 * dominant.mismatch:.1f} %"
            )
            recommended.append(_recommendation(dominant, product, reason))
            continue
        fallback = next(
            (c for c in ranked[1:] if c.mismatch <= max_mismatch and _w(c, tier) > 0), None
        )
        if fallback is not None:
            reason = (
                f"best {tier} candidate of {product} under {limit:g} % mismatch: W = "
                f"{_w(fallback, tier):.3f} J/m^2, mismatch {100 * fallback.mismatch:.1f} %; the "
                f"dominant {dominant.candidate_id} (W = {w:.3f} J/m^2) has mismatch "
                f"{100 * dominant.mismatch:.1f} %, and small strongly strained cells reconstruct"
            )
            recommended.append(_recommendation(fallback, product, reason))
        else:
            reason = (
                f"caution: dominant interface of {product} (W = {w:.3f} J/m^2, {tier}) has "
                f"mismatch {100 * dominant.mismatch:.1f} % and no {tier} candidate is under "
                f"{limit:g} %: its strained cell may reconstruct"
            )
            recommended.append(_recommendation(dominant, product, reason))
    return recommended


def _w(candidate: ScreeningCandidate, tier: str) -> float:
    result = tier_result(candidate, tier)
    return math.nan if result is None else float(result.W_adhesion)


def _recommendation(candidate: ScreeningCandidate, product: str, reason: str) -> dict[str, str]:
    return {"candidate_id": candidate.candidate_id, "product": product, "reason": reason}


def tier_spearman(candidates: Sequence[ScreeningCandidate]) -> float | None:
    """Spearman correlation of W_adhesion (Eq. 4) between the tiers.

    Over every candidate with both a pre-screen and a refine result (all products together:
    the question is whether the cheap tier orders interfaces like the refined one); None with
    fewer than 3 such candidates.
    """
    both = [c for c in candidates if c.prescreen is not None and c.refine is not None]
    return spearman(
        [c.prescreen.W_adhesion for c in both],  # type: ignore[union-attr]
        [c.refine.W_adhesion for c in both],  # type: ignore[union-attr]
    )


__all__ = [
    "DEFAULT_MAX_GAMMA_RATIO",
    "DEFAULT_MAX_TRANSPORT_MISMATCH",
    "DEFAULT_MIN_AREA_FRACTION",
    "DEFAULT_TERMINATION_TOLERANCE",
    "best_tier",
    "candidate_id",
    "dominant_by_product",
    "facet_label",
    "rank_by_adhesion",
    "select_facets",
    "spearman",
    "tier_result",
    "tier_spearman",
    "top_per_product",
    "transport_recommendations",
]
