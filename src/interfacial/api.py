"""The Python API behind the command line: run flows, build, query, report.

Every function validates its input completely before it opens a store, so bad input writes
nothing.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from interfacial.errors import InterfacialError
from interfacial.settings import InterfacialSettings, get_settings
from interfacial.stores import (
    SURFACE_MATERIALS,
    SURFACES,
    check_writable,
    derived_store,
    get_job_store,
)


def _clean(doc: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in doc.items() if k != "_id"}


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

    from interfacial.calculators import surface_energy_maker
    from interfacial.structures.library import load_structure, structure_label

    settings = settings or get_settings()
    bulk = load_structure(structure)
    maker = surface_energy_maker(
        calculator or settings.calculator,
        settings,
        max_index=max_index,
        millers=millers,
        min_thickness=min_thickness,
        max_thickness=max_thickness,
        vacuum=vacuum,
    )
    maker.facets(SpacegroupAnalyzer(bulk).get_conventional_standard_structure())
    return maker.make(bulk, structure_label(structure, bulk))


def run_surfaces(
    structure: str | Path,
    *,
    settings: InterfacialSettings | None = None,
    show_progress: bool = True,
    **flow_kwargs: Any,
) -> list[dict[str, Any]]:
    """Run the surface-energy flow locally, build, and return the per-termination documents."""
    from interfacial.calculators import check_can_run_locally
    from interfacial.runner import run_flow

    settings = settings or get_settings()
    flow = surface_flow(structure, settings=settings, **flow_kwargs)
    check_can_run_locally(flow_kwargs.get("calculator") or settings.calculator, settings)
    check_writable(settings)
    run_flow(flow, get_job_store(settings), run_directory(settings), show_progress=show_progress)
    bulk_uuid = flow.jobs[0].uuid
    build(settings, query={"uuid": bulk_uuid})
    return query_surfaces(settings=settings, bulk_uuid=bulk_uuid)


def run_directory(settings: InterfacialSettings) -> Path:
    """Where local runs keep one folder per job: ``<data_dir>/runs``."""
    return settings.data_dir.expanduser().resolve() / "runs"


def build(
    settings: InterfacialSettings | None = None, query: dict[str, Any] | None = None
) -> dict[str, int]:
    """Run the builders over the store; return how many groups each rebuilt."""
    from interfacial.builders.surface import SurfaceBuilder

    settings = settings or get_settings()
    check_writable(settings)
    tasks = get_job_store(settings).docs_store
    builder = SurfaceBuilder(
        tasks,
        derived_store(SURFACES, "surface_id", settings),
        derived_store(SURFACE_MATERIALS, "bulk_uuid", settings),
        query=query,
    )
    builder.connect()
    try:
        items = list(builder.get_items())
        results = [builder.process_item(item) for item in items]
        builder.update_targets(results)
    finally:
        for store in (tasks, builder.surfaces, builder.materials):
            store.close()
    return {"surfaces": len(results)}


def _read(name: str, key: str, criteria: dict[str, Any], settings: InterfacialSettings) -> list:
    check_writable(settings)
    store = derived_store(name, key, settings)
    store.connect()
    try:
        return [_clean(d) for d in store.query(criteria)]
    finally:
        store.close()


def query_surfaces(
    formula: str | None = None,
    *,
    material: str | None = None,
    bulk_uuid: str | None = None,
    latest_only: bool = True,
    settings: InterfacialSettings | None = None,
) -> list[dict[str, Any]]:
    """Per-termination surface documents, sorted by material, facet and termination.

    With ``latest_only`` (default) a material computed several times with the same calculator
    shows only its newest calculation (the bulk relaxation built most recently).
    """
    settings = settings or get_settings()
    criteria: dict[str, Any] = {}
    if formula:
        from pymatgen.core import Composition, Element

        try:
            composition = Composition(formula)
            valid = all(isinstance(el, Element) for el in composition.elements)
        except Exception:  # pymatgen raises several types for unparsable formulas
            valid = False
        if not valid:
            raise InterfacialError(f"'{formula}' is not a chemical formula; e.g. Li2S")
        criteria["formula"] = composition.reduced_formula
    if material:
        criteria["material"] = material
    if bulk_uuid:
        criteria["bulk_uuid"] = bulk_uuid
    docs = _read(SURFACES, "surface_id", criteria, settings)
    if latest_only and not bulk_uuid:
        newest: dict[tuple[str, str], tuple[Any, str]] = {}
        for d in docs:
            key = (d["material"], d["calculator"])
            if key not in newest or d["last_updated"] > newest[key][0]:
                newest[key] = (d["last_updated"], d["bulk_uuid"])
        keep = {bulk for _, bulk in newest.values()}
        docs = [d for d in docs if d["bulk_uuid"] in keep]
    return sorted(
        docs,
        key=lambda d: (
            d["material"],
            d["miller_index"],
            d.get("termination") or "",
            d["bulk_uuid"],
        ),
    )


def query_surface_materials(settings: InterfacialSettings | None = None) -> list[dict[str, Any]]:
    """Per-material Wulff documents."""
    return _read(SURFACE_MATERIALS, "bulk_uuid", {}, settings or get_settings())


def report(out_dir: Path, settings: InterfacialSettings | None = None) -> list[Path]:
    """Write a Wulff-shape PNG per material (newest calculation of each material and calculator).

    Documents whose facets enclose no shape (e.g. the single facet an interface flow computes)
    are skipped.
    """
    from interfacial.plots import wulff_figure

    latest: dict[tuple[str, str], dict[str, Any]] = {}
    for doc in query_surface_materials(settings):
        if doc.get("weighted_surface_energy") is None:
            continue
        key = (doc["material"], doc["calculator"])
        if key not in latest or doc["last_updated"] > latest[key]["last_updated"]:
            latest[key] = doc
    return [
        wulff_figure(doc, out_dir / f"wulff_{material}_{calculator}.png")
        for (material, calculator), doc in sorted(latest.items())
    ]
