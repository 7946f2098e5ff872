"""The report: figures of stored results (Wulff shapes, adhesion, models, parity, D*, screens)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from interfacial.api.results import (
    finished_rank,
    query_arrhenius,
    query_diffusion,
    query_interfaces,
    query_surface_materials,
)
from interfacial.schemas.roles import Role, role_filter
from interfacial.schemas.screening import REFINE
from interfacial.settings import InterfacialSettings, get_settings
from interfacial.stores import get_job_store


def report(out_dir: Path, settings: InterfacialSettings | None = None) -> list[Path]:
    """Write the figures: Wulff shapes, adhesion bars, interface models, MTP parity plots.

    One Wulff shape per material and calculator (the one with the most facets, newest first;
    documents whose facets enclose no shape are skipped); one bar
    chart of E_f, sigma and W per interface (Li and Na panels); one side view per interface;
    per stored screening, W of every candidate by product and the products' fractions.
    """
    from interfacial.plots import adhesion_bars, wulff_figure
    from interfacial.validation import check_output_directory

    check_output_directory(out_dir, "report directory")
    settings = settings or get_settings()
    # Per material and calculator, the shape with the most facets (a single-facet run of an
    # interface flow must not hide a full Wulff shape), the newest of those.
    best: dict[tuple[str, str], dict[str, Any]] = {}
    for doc in query_surface_materials(settings):
        if doc.get("weighted_surface_energy") is None:
            continue
        key = (doc["material"], doc["calculator"])
        rank = (len(doc["facets"]), finished_rank(doc))
        if key not in best or rank > (len(best[key]["facets"]), finished_rank(best[key])):
            best[key] = doc
    paths = [
        wulff_figure(doc, out_dir / f"wulff_{material}_{calculator}.png")
        for (material, calculator), doc in sorted(best.items())
    ]
    interfaces = query_interfaces(settings=settings)
    # A screen's candidates (interfaces with a tier) have their own chart, by product and tier;
    # mixed into the adhesion bars they would repeat each pair once per tier and cell.
    studied = [d for d in interfaces if not d.get("tier")]
    for calculator in sorted({d["calculator"] for d in studied}):
        docs = [d for d in studied if d["calculator"] == calculator]
        paths.append(adhesion_bars(docs, out_dir / f"adhesion_{calculator}.png"))
    # Of a screen's models, the refined ones: the answer, not the pre-screen's thin slabs.
    refined = [d for d in interfaces if d.get("tier") == REFINE]
    paths.extend(_model_pictures(studied + refined, out_dir, settings))
    paths.extend(_parity_plots(out_dir, settings))
    paths.extend(_transport_plots(out_dir, settings))
    paths.extend(_screening_plots(out_dir, settings))
    return paths


def screening_file_names(docs: list[dict[str, Any]]) -> list[tuple[str, dict[str, Any]]]:
    """File stems of the screening figures: ``screening-<electrolyte>-<metal>`` per screening.

    The newest screening of an electrolyte and metal takes the plain name; an older one stored
    with other calculators adds them (``-CHGNet-VASP``), so no figure overwrites another.
    """
    from interfacial.plots import safe_filename

    groups: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for doc in docs:
        groups.setdefault((doc["electrolyte"], doc["metal"]), []).append(doc)
    named = []
    for (electrolyte, metal), group in sorted(groups.items()):
        stem = f"{safe_filename(electrolyte)}-{safe_filename(metal)}"
        for i, doc in enumerate(sorted(group, key=finished_rank, reverse=True)):
            calculators = {doc["calculator"], doc.get("refine_calculator") or doc["calculator"]}
            tail = "" if i == 0 else "-" + "-".join(safe_filename(c) for c in sorted(calculators))
            named.append((stem + tail, doc))
    return named


def _screening_plots(out_dir: Path, settings: InterfacialSettings) -> list[Path]:
    """Per stored screening: W of every candidate by product, and the product fractions."""
    from interfacial.api.screening import query_screening
    from interfacial.plots import product_fractions_figure, screening_figure

    paths = []
    for stem, doc in screening_file_names(query_screening(settings)):
        paths.append(screening_figure(doc, out_dir / f"screening-{stem}.png"))
        paths.append(product_fractions_figure(doc, out_dir / f"screening-products-{stem}.png"))
    return paths


def _transport_plots(out_dir: Path, settings: InterfacialSettings) -> list[Path]:
    """MSD curves per system and temperature, Arrhenius plots, in-plane vs out-of-plane bars."""
    from interfacial.plots import anisotropy_bars, arrhenius_figure, msd_figure, safe_filename

    docs = query_diffusion(settings=settings)
    paths = [
        msd_figure(doc, out_dir / f"msd_{safe_filename(doc['system'])}_{doc['temperature']:g}K.png")
        for doc in docs
    ]
    by_system: dict[tuple[str, Any], list[dict[str, Any]]] = {}
    for fit in query_arrhenius(settings=settings):
        by_system.setdefault((fit["system"], fit.get("potential_sha256")), []).append(fit)
    for (system, _), fits in sorted(by_system.items(), key=lambda kv: kv[0][0]):
        paths.append(
            arrhenius_figure(system, fits, out_dir / f"arrhenius_{safe_filename(system)}.png")
        )
    if docs:
        paths.append(anisotropy_bars(docs, out_dir / "diffusion_in_vs_out_of_plane.png"))
    return paths


def _parity_plots(out_dir: Path, settings: InterfacialSettings) -> list[Path]:
    """One parity plot per fitted system (its newest fit), from the stored parity data."""
    from interfacial.plots import parity_plot

    store = get_job_store(settings, read_only=True)
    store.connect()
    try:
        fits = list(store.query(role_filter(Role.MTP_FIT), load=True, sort={"index": 1}))
    finally:
        store.close()
    newest: dict[str, dict[str, Any]] = {}
    for fit in fits:
        output = fit.get("output") or {}
        if output.get("parity") and str(fit["completed_at"]) >= str(
            newest.get(output["system"], {}).get("completed_at", "")
        ):
            newest[output["system"]] = fit
    return [
        parity_plot(system, fit["output"]["parity"], out_dir / f"parity_{system}.png")
        for system, fit in sorted(newest.items())
    ]


def _model_pictures(
    docs: list[dict[str, Any]], out_dir: Path, settings: InterfacialSettings
) -> list[Path]:
    """Side views of the relaxed models (read from their task documents)."""
    from pymatgen.core import Structure

    from interfacial.plots import interface_picture

    if not docs:
        return []
    tasks = get_job_store(settings, read_only=True).docs_store
    tasks.connect()
    try:
        paths: list[Path] = []
        for d in docs:
            task = tasks.query_one(
                {"uuid": d["interface_uuid"]}, properties=["output.structure"], sort={"index": -1}
            )
            if task is None:
                continue
            name = (
                f"{d['metal']}{''.join(map(str, d['metal_miller']))}_"
                f"{d['compound']}{''.join(map(str, d['compound_miller']))}_{d['calculator']}"
            )
            if d.get("tier"):
                # Several candidates of one facet pair differ in terminations and cell.
                name += f"_{d['metal_termination']}_{d['compound_termination']}_{d['tier']}"
                taken = {p.name for p in paths}
                base, k = name, 1
                while f"model_{name}.png" in taken:
                    k += 1
                    name = f"{base}_{k}"
            title = (
                f"{d['metal']}{d['metal_miller']} || {d['compound']}{d['compound_miller']} "
                f"{d['metal_termination']}|{d['compound_termination']}\n"
                f"E_f {d['E_f']:.3f}, W {d['W_adhesion']:.3f} J/m^2, {d['n_atoms']} atoms"
            )
            structure = Structure.from_dict(task["output"]["structure"])
            paths.append(interface_picture(structure, title, out_dir / f"model_{name}.png"))
        return paths
    finally:
        tasks.close()
