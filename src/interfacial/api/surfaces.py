"""Surface energies: the surface-energy flow of one material, and running it here."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from interfacial import engines
from interfacial.api.results import build, query_surfaces, run_directory
from interfacial.settings import InterfacialSettings, get_settings
from interfacial.stores import check_writable, get_job_store


def surface_flow(
    structure: str | Path,
    *,
    max_index: int = 1,
    millers: list[list[int]] | None = None,
    calculator: str | None = None,
    min_thickness: float = 8.0,
    max_thickness: float = 30.0,
    vacuum: float = 15.0,
    settings: InterfacialSettings | None = None,
) -> Any:
    """Validate the input and return the surface-energy Flow (not run)."""
    from pymatgen.symmetry.analyzer import SpacegroupAnalyzer

    from interfacial.structures.library import load_structure, structure_label
    from interfacial.validation import check_facet_cost

    settings = settings or get_settings()
    bulk = load_structure(structure)
    maker = engines.calculator(calculator or settings.calculator).surface_energy_maker(
        settings,
        max_index=max_index,
        millers=millers,
        min_thickness=min_thickness,
        max_thickness=max_thickness,
        vacuum=vacuum,
    )
    label = structure_label(structure, bulk)
    conventional = SpacegroupAnalyzer(bulk).get_conventional_standard_structure()
    for hkl in maker.facets(conventional):
        # The thinnest slab of each facet: a huge one is refused before any job exists.
        h, k, l_ = hkl
        check_facet_cost(conventional, (h, k, l_), maker.min_thickness, what=f"{label} facet")
    return maker.make(bulk, label)


def run_surfaces(
    structure: str | Path,
    *,
    settings: InterfacialSettings | None = None,
    show_progress: bool = True,
    **flow_kwargs: Any,
) -> list[dict[str, Any]]:
    """Run the surface-energy flow locally, build, and return the per-termination documents."""
    from interfacial.flows.surface import bulk_relaxation
    from interfacial.runner import run_flow

    settings = settings or get_settings()
    flow = surface_flow(structure, settings=settings, **flow_kwargs)
    engines.calculator(flow_kwargs.get("calculator") or settings.calculator).check_can_run_locally(
        settings
    )
    check_writable(settings)
    run_flow(flow, get_job_store(settings), run_directory(settings), show_progress=show_progress)
    bulk_uuid = bulk_relaxation(flow).uuid
    build(settings, query={"uuid": bulk_uuid})
    return query_surfaces(settings=settings, bulk_uuid=bulk_uuid)
