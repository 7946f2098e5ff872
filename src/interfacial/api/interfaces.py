"""Interfaces: lattice matching, the interface-energetics flow, and running it here."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from interfacial import engines
from interfacial.api.results import build, query_interfaces, run_directory
from interfacial.errors import InterfacialError
from interfacial.settings import InterfacialSettings, get_settings
from interfacial.stores import check_writable, get_job_store


def _interface_bulks(metal: str | Path, compound: str | Path) -> tuple[Any, Any, str, str]:
    """Load both sides (conventional standard cells) and check they make a metal||compound pair."""
    from pymatgen.symmetry.analyzer import SpacegroupAnalyzer

    from interfacial.structures.library import load_structure, structure_label

    structures = []
    for name in (metal, compound):
        structure = load_structure(name)
        conventional = SpacegroupAnalyzer(structure).get_conventional_standard_structure()
        structures.append((conventional, structure_label(name, structure)))
    (metal_bulk, metal_label), (compound_bulk, compound_label) = structures
    elements = metal_bulk.composition.elements
    if len(elements) != 1 or not elements[0].is_alkali:
        raise InterfacialError(
            f"the metal side must be an elemental alkali metal (Li, Na, K, ...); "
            f"{metal_label} is {metal_bulk.composition.reduced_formula}"
        )
    if elements[0] not in compound_bulk.composition:
        raise InterfacialError(
            f"{compound_label} contains no {elements[0].symbol}: the compound side must be a "
            f"decomposition product holding the metal's element (e.g. {elements[0].symbol}2S)"
        )
    return metal_bulk, compound_bulk, metal_label, compound_label


def _interface_facets(
    metal_bulk: Any,
    compound_bulk: Any,
    metal_miller: Any,
    compound_miller: Any,
    metal_thickness: float | None = None,
    compound_thickness: float | None = None,
    max_atoms: int | None = None,
) -> tuple[list[int], list[int]]:
    """Both facets parsed and their slabs' cost checked, before any matching or job.

    With ``max_atoms`` (the largest model), two slabs that hold more atoms together on their
    smallest cells than a model may are refused: no candidate could ever be built.
    """
    from interfacial.structures.slabs import (
        DEFAULT_COMPOUND_THICKNESS,
        default_metal_thickness,
        parse_miller,
    )
    from interfacial.validation import check_facet_cost, slab_atoms_estimate

    facets = []
    smallest = 0
    for side, bulk, miller, thickness in (
        (
            "metal",
            metal_bulk,
            metal_miller,
            metal_thickness or default_metal_thickness(metal_bulk.composition.elements[0].symbol),
        ),
        (
            "compound",
            compound_bulk,
            compound_miller,
            compound_thickness or DEFAULT_COMPOUND_THICKNESS,
        ),
    ):
        try:
            hkl = parse_miller(miller)
        except InterfacialError as exc:
            raise InterfacialError(f"{side} facet: {exc}") from None
        check_facet_cost(bulk, hkl, thickness, what=f"the {side} facet")
        facets.append(list(hkl))
        smallest += slab_atoms_estimate(bulk, hkl, thickness)
    if max_atoms is not None and smallest > max_atoms:
        labels = [",".join(map(str, f)) for f in facets]
        raise InterfacialError(
            f"a model of the metal facet ({labels[0]}) on the compound facet ({labels[1]}) "
            f"holds at least about {smallest} atoms, above the limit of {max_atoms} "
            "(max_atoms, --max-atoms): raise it, or choose lower-index facets or thinner slabs"
        )
    return facets[0], facets[1]


def match(
    metal: str | Path,
    compound: str | Path,
    metal_miller: Any,
    compound_miller: Any,
    **options: Any,
) -> list[dict[str, Any]]:
    """Lattice-match a metal facet on a compound facet (geometry only, seconds).

    ``options`` go to :func:`interfacial.structures.matching.find_matches` (max_area,
    max_mismatch, max_angle_mismatch, metal_thickness, compound_thickness).
    """
    from interfacial.structures.matching import find_matches

    metal_bulk, compound_bulk, _, _ = _interface_bulks(metal, compound)
    metal_hkl, compound_hkl = _interface_facets(
        metal_bulk,
        compound_bulk,
        metal_miller,
        compound_miller,
        options.get("metal_thickness"),
        options.get("compound_thickness"),
    )
    candidates = find_matches(
        metal_bulk,
        compound_bulk,
        metal_hkl,
        compound_hkl,
        **{k: v for k, v in options.items() if v is not None},
    )
    return [c.as_dict() for c in candidates]


def interface_flow(
    metal: str | Path,
    compound: str | Path,
    metal_miller: Any,
    compound_miller: Any,
    *,
    calculator: str | None = None,
    surface_kwargs: dict[str, Any] | None = None,
    settings: InterfacialSettings | None = None,
    **maker_kwargs: Any,
) -> Any:
    """Validate the input and return the interface-energetics Flow (not run).

    The geometry (matching, candidate choice and every model) is built once on the unrelaxed
    structures so that an impossible request fails here, before anything is stored.
    """
    from interfacial.structures.interfaces import build_interface_models
    from interfacial.structures.matching import find_matches, select_candidates

    settings = settings or get_settings()
    metal_bulk, compound_bulk, metal_label, compound_label = _interface_bulks(metal, compound)
    # The maker first: it checks every option (cheap) before the facets' geometry.
    engine = engines.calculator(calculator or settings.calculator)
    maker = engine.interface_energetics_maker(
        settings,
        engine.surface_energy_maker(
            settings, **{k: v for k, v in (surface_kwargs or {}).items() if v is not None}
        ),
        **{k: v for k, v in maker_kwargs.items() if v is not None},
    )
    metal_hkl, compound_hkl = _interface_facets(
        metal_bulk,
        compound_bulk,
        metal_miller,
        compound_miller,
        maker_kwargs.get("metal_thickness"),
        maker_kwargs.get("compound_thickness"),
        max_atoms=maker.max_atoms,
    )
    candidates = find_matches(
        metal_bulk, compound_bulk, metal_hkl, compound_hkl, **maker.match_options()
    )
    for index in select_candidates(candidates, maker.max_atoms, maker.n_candidates):
        build_interface_models(
            metal_bulk, compound_bulk, candidates[index], **maker.model_options()
        )
    return maker.make(
        metal_bulk, compound_bulk, metal_hkl, compound_hkl, metal_label, compound_label
    )


def run_interface(
    metal: str | Path,
    compound: str | Path,
    metal_miller: Any,
    compound_miller: Any,
    *,
    settings: InterfacialSettings | None = None,
    show_progress: bool = True,
    **flow_kwargs: Any,
) -> list[dict[str, Any]]:
    """Run the interface-energetics flow locally, build, and return this run's documents."""
    from interfacial.flows.interface import bulk_relaxations
    from interfacial.runner import run_flow

    settings = settings or get_settings()
    flow = interface_flow(
        metal, compound, metal_miller, compound_miller, settings=settings, **flow_kwargs
    )
    engines.calculator(flow_kwargs.get("calculator") or settings.calculator).check_can_run_locally(
        settings
    )
    check_writable(settings)
    run_flow(flow, get_job_store(settings), run_directory(settings), show_progress=show_progress)
    metal_bulk_uuid = bulk_relaxations(flow)["metal"].uuid
    build(settings)
    return query_interfaces(settings=settings, metal_bulk_uuid=metal_bulk_uuid, lowest_only=False)
