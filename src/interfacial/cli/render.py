"""Rendering of results: rich tables on stdout (wide when piped), JSON for scripts.

Nothing here reads a store or runs anything: each function turns documents into text.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import typer


@contextmanager
def working(text: str, enabled: bool = True) -> Iterator[None]:
    """Show ``text`` with a spinner and the elapsed time on stderr while a silent step runs.

    For work that has no steps to count (lattice matching, building models): a transient live
    line on a terminal, nothing elsewhere (so that a failure stays the one line on stderr in logs
    and pipes). Off with --json.
    """
    if not enabled:
        yield
        return
    from rich.console import Console
    from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    console = Console(stderr=True)
    if not console.is_terminal:
        yield
        return
    columns = (SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn())
    with Progress(*columns, console=console, transient=True) as progress:
        progress.add_task(text, total=None)
        yield


def print_json(data: Any) -> None:
    """Print ``data`` as indented JSON (datetimes and paths as strings)."""
    typer.echo(json.dumps(data, indent=2, default=str))


def fmt(value: float | None, digits: int = 3) -> str:
    """A number with ``digits`` decimals, or "-" for a missing one."""
    return "-" if value is None else f"{value:.{digits}f}"


def surface_table(docs: list[dict[str, Any]], title: str) -> None:
    """Surface energies per facet and termination (J/m^2)."""
    from rich.console import Console
    from rich.table import Table

    table = Table(title=title)
    console = Console() if sys.stdout.isatty() else Console(width=160)
    for column in ("material", "facet", "termination", "Tasker", "gamma (J/m^2)", "converged"):
        table.add_column(column)
    for column in ("atoms", "thickness (A)", "calculator", "note"):
        table.add_column(column)
    for d in docs:
        table.add_row(
            d["material"],
            "(" + " ".join(map(str, d["miller_index"])) + ")",
            d.get("termination") or "-",
            str(d["tasker_type"]),
            fmt(d.get("surface_energy")),
            "-" if d.get("converged") is None else ("yes" if d["converged"] else "NO"),
            str(d.get("n_atoms") or "-"),
            fmt(d.get("slab_thickness"), 1),
            d["calculator"],
            d.get("reason") or "",
        )
    console.print(table)


def surface_public(doc: dict[str, Any]) -> dict[str, Any]:
    """The per-termination fields users script against (JSON output)."""
    keys = (
        "material",
        "formula",
        "miller_index",
        "termination",
        "shift",
        "tasker_type",
        "surface_energy",
        "reason",
        "converged",
        "n_atoms",
        "slab_thickness",
        "vacuum",
        "area",
        "calculator",
        "bulk_uuid",
        "slab_uuid",
        "surface_id",
        "thickness_series",
        "last_updated",
    )
    return {k: doc.get(k) for k in keys}


def interface_public(doc: dict[str, Any]) -> dict[str, Any]:
    """The per-model fields users script against (JSON output of interface commands)."""
    keys = (
        "metal",
        "compound",
        "metal_miller",
        "compound_miller",
        "metal_termination",
        "compound_termination",
        "registry",
        "gap",
        "relaxation",
        "E_f",
        "sigma",
        "strain_energy",
        "W_adhesion",
        "W_adhesion_eq5",
        "gamma_metal",
        "gamma_compound",
        "gamma_source",
        "wets",
        "strong_adhesion",
        "adhesion_threshold",
        "is_lowest",
        "mismatch",
        "angle_mismatch",
        "area",
        "n_atoms",
        "calculator",
        "model_id",
        "interface_id",
        "tier",
        "last_updated",
    )
    return {k: doc.get(k) for k in keys}


def interface_table(docs: list[dict[str, Any]], title: str) -> None:
    """E_f, sigma, W_adhesion per interface model (J/m^2)."""
    from rich.console import Console
    from rich.table import Table

    table = Table(title=title)
    console = Console() if sys.stdout.isatty() else Console(width=200)
    columns = ("interface", "terminations", "registry", "E_f", "sigma", "W (Eq.4)", "W' (Eq.5)")
    for column in (*columns, "g_metal", "g_comp", "mismatch", "area (A^2)", "atoms", "flags"):
        table.add_column(column)
    for d in docs:
        flags = [f for f in ("wets", "strong_adhesion") if d.get(f)]
        table.add_row(
            f"{d['metal']}({''.join(map(str, d['metal_miller']))})||"
            f"{d['compound']}({''.join(map(str, d['compound_miller']))})",
            f"{d['metal_termination']}|{d['compound_termination']}",
            ",".join(f"{x:.2f}" for x in d["registry"]) + ("*" if d.get("is_lowest") else ""),
            fmt(d["E_f"]),
            fmt(d["sigma"]),
            fmt(d["W_adhesion"]),
            fmt(d["W_adhesion_eq5"]),
            fmt(d["gamma_metal"]),
            fmt(d["gamma_compound"]),
            f"{100 * d['mismatch']:.1f}%",
            fmt(d["area"], 1),
            str(d["n_atoms"]),
            " ".join(flags),
        )
    console.print(table)
    console.print("energies in J/m^2 per interface; * lowest-energy model of its interface")


def diffusion_table(docs: list[dict[str, Any]], title: str) -> None:
    """D* per system, temperature, group and component (cm^2/s), and the frames' grades."""
    from rich.console import Console
    from rich.table import Table

    from interfacial.schemas.diffusion import record_state

    table = Table(title=title)
    console = Console() if sys.stdout.isatty() else Console(width=170)
    for column in ("system", "T (K)", "group", "atoms", "component", "D* (cm^2/s)"):
        table.add_column(column)
    for column in ("sigma (cm^2/s)", "window (ps)", "status", "bound / advice", "source"):
        table.add_column(column)
    for d in docs:
        for r in d["diffusivities"]:
            # A caged group's slope is no diffusivity: its row gives the upper bound alone
            # (the fitted slope stays in --json), so nobody reads a D* off a plateau.
            caged = r.get("status") == "caged"
            table.add_row(
                d["system"],
                f"{d['temperature']:g}",
                r["group"],
                str(r["n_atoms"]),
                r["component"],
                "-" if caged else f"{r['D']:.3e}",
                "-" if caged else f"{r['sigma_D']:.1e}",
                f"{r['fit_window'][0]:.3g}-{r['fit_window'][1]:.3g}",
                record_state(r.get("status"), r.get("converged")),
                _advice(r),
                d.get("source", "md"),
            )
    console.print(table)
    for d in docs:
        rule = d.get("fit_window_rule")
        if rule and not rule.startswith("user"):
            console.print(f"{d['system']} {d['temperature']:g} K windows: {rule}")
    for d in docs:
        check = d.get("extrapolation")
        if check:
            verdict = "reliable" if check["reliable"] else "UNRELIABLE: refit with these frames"
            console.print(
                f"{d['system']} {d['temperature']:g} K: {check['n_graded']} frames graded against "
                f"{check['n_training']} training configurations, max grade "
                f"{check['max_grade']:.2f} ({100 * check['fraction_above_select']:.0f} % above "
                f"{check['select_threshold']:g}): {verdict}"
            )


def _advice(rec: dict[str, Any]) -> str:
    """Upper bound of a caged group, how much longer to run a short one; nothing if diffusive."""
    status = rec.get("status")
    if status == "caged" and rec.get("D_upper") is not None:
        return f"D* < {rec['D_upper']:.1e}"
    if status == "too short":
        longer = rec.get("run_longer_ps")
        return "run longer" if longer is None else f"run ~{longer:.3g} ps longer"
    return ""


def arrhenius_table(docs: list[dict[str, Any]], title: str) -> None:
    """Arrhenius fits per system, group and component (Ea in meV, D0 in cm^2/s)."""
    from rich.console import Console
    from rich.table import Table

    table = Table(title=title)
    console = Console() if sys.stdout.isatty() else Console(width=170)
    for column in ("system", "group", "component", "T (K)", "Ea (meV)", "D0 (cm^2/s)", "note"):
        table.add_column(column)
    for d in docs:
        temps = ", ".join(f"{t:g}" for t in d["temperatures"]) or "-"
        ea = "-" if d.get("Ea") is None else f"{d['Ea']:.0f} ± {d['sigma_Ea']:.0f}"
        d0 = "-" if d.get("D0") is None else f"{d['D0']:.2e} (ln ± {d['sigma_ln_D0']:.2f})"
        notes = [d.get("note") or ""] + [
            x["reason"]
            if f"{x['temperature']:g} K" in x["reason"]
            else f"{x['temperature']:g} K left out: {x['reason']}"
            for x in d.get("excluded", [])
        ]
        table.add_row(
            d["system"], d["group"], d["component"], temps, ea, d0, "; ".join(n for n in notes if n)
        )
    console.print(table)


def diffusion_public(doc: dict[str, Any], curves: bool = False) -> dict[str, Any]:
    """A document for --json: without the MSD curves unless asked for."""
    return {k: v for k, v in doc.items() if curves or k != "msd"}


def learning_summary(learned: dict[str, Any]) -> None:
    """Errors per set after each active-learning round (meV/atom, meV/A)."""
    for r in learned["rounds"]:
        sets = {"train": r["training_errors"], **r["validation_errors"]}
        errors = ", ".join(
            f"{name} {e['energy_rmse']:.1f} meV/atom {e['force_rmse']:.0f} meV/A"
            for name, e in sets.items()
        )
        typer.echo(
            f"MTP round {r['round']} ({r['n_training_before']} configurations): {errors}; MD "
            f"max grade {r['max_grade']:.1f}, {r['n_selected']} configurations labelled"
        )


def match_table(candidates: list[dict[str, Any]], title: str) -> None:
    """Lattice-matching candidates: mismatch, angle, area (A^2), atoms and the two matrices."""
    from rich.console import Console
    from rich.table import Table

    table = Table(title=title)
    for column in ("#", "mismatch", "angle (deg)", "area (A^2)", "atoms", "metal", "compound"):
        table.add_column(column)
    for i, c in enumerate(candidates):
        table.add_row(
            str(i),
            f"{100 * c['mismatch']:.2f}%",
            f"{c['angle_mismatch']:.2f}",
            f"{c['area']:.1f}",
            str(c["n_atoms"]),
            str(c["metal_matrix"]),
            str(c["compound_matrix"]),
        )
    (Console() if sys.stdout.isatty() else Console(width=160)).print(table)


def fit_summary(output: dict[str, Any]) -> None:
    """One line on the fitted potential, one per set with its errors (meV/atom, meV/A)."""
    typer.echo(
        f"{output['engine']} {output['engine_version']} level {output['level']} on "
        f"{output['n_training']} configurations ({', '.join(output['species_order'])}); "
        f"potential sha256 {output['potential_sha256'][:12]}"
    )
    sets = {"train": output["training_errors"], **output["validation_errors"]}
    for label, e in sets.items():
        typer.echo(
            f"  {label:12s} energy {e['energy_rmse']:.2f} meV/atom  forces {e['force_rmse']:.1f} "
            f"meV/A  {'meets' if e['meets_targets'] else 'MISSES'} the study's targets"
        )


def campaign_tables(result: Any, titles: dict[str, str]) -> None:
    """The tables of a campaign run: screenings, surfaces, interfaces, MTP rounds, D*, Arrhenius.

    ``result`` is a :class:`interfacial.campaign.CampaignResult`; ``titles`` names the tables
    (keys surfaces, interfaces, diffusion, arrhenius). A stage the campaign does not have
    prints nothing (an interface stage computes surfaces too, so it prints both).
    """
    campaign = result.campaign
    if campaign.screen:
        screening_tables(result.screenings)
    if campaign.surfaces or campaign.interfaces:
        surface_table(result.surfaces, titles["surfaces"])
    if campaign.interfaces:
        interface_table(result.interfaces, titles["interfaces"])
    for learned in result.potentials:
        learning_summary(learned)
    if campaign.transport:
        diffusion_table(result.diffusion, titles["diffusion"])
        arrhenius_table(result.arrhenius, titles["arrhenius"])


# ------------------------------------------------------------------------------- screening


def _facet(miller: list[int]) -> str:
    return "(" + "".join(map(str, miller)) + ")"


def _percent(value: float | None) -> str:
    return "-" if value is None else f"{100 * value:.1f}%"


def _duration(seconds: float | None) -> str:
    """A cost estimate in words: '40 s', '12 min', '3.5 h'."""
    if seconds is None:
        return "-"
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 5400:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"


def _plan_item(item: Any) -> str:
    """One facet or pair of a plan: a string as it is, a document by its label fields."""
    if isinstance(item, str):
        return item
    if isinstance(item, dict):
        if "pair" in item:
            return str(item["pair"])
        if "miller_index" in item:
            terms = item.get("terminations")
            return _facet(item["miller_index"]) + (f" {'/'.join(terms)}" if terms else "")
        return ", ".join(f"{k} {v}" for k, v in item.items())
    if isinstance(item, list | tuple) and all(isinstance(i, int) for i in item):
        return _facet(list(item))
    return str(item)


def screen_plan_lines(plan: dict[str, Any]) -> list[str]:
    """``interfacial screen --dry-run``: the plan of :func:`interfacial.api.screening.screen_plan`.

    Reaction, products with their fractions, facets per material (or "to be computed"), facet
    pairs, the number of candidates (exact, or an upper bound while surfaces are not computed),
    atoms per model, the estimated cost and what is reused. Nothing was run.
    """
    lines = []
    if plan.get("calculator"):
        refine = plan.get("refine_calculator") or plan["calculator"]
        lines.append(f"calculators: {plan['calculator']} pre-screen, {refine} refine")
    lines.append(f"reaction: {plan['reaction']}")
    lines.append("products (molar fraction, volume fraction):")
    for p in plan.get("products", []):
        if isinstance(p, dict):
            lines.append(
                f"  {p['label']}: {_percent(p.get('molar_fraction'))}, "
                f"{_percent(p.get('volume_fraction'))} (carries {p.get('element', '?')})"
            )
        else:
            lines.append(f"  {p}")
    reused = set(plan.get("reused") or [])
    lines.append("facets to pair:")
    for material, facets in (plan.get("facets") or {}).items():
        mark = " (stored surfaces reused)" if material in reused else ""
        shown = facets if isinstance(facets, str) else ", ".join(_plan_item(f) for f in facets)
        lines.append(f"  {material}{mark}: {shown}")
    pairs = plan.get("pairs") or []
    lines.append(f"facet pairs: {len(pairs)}")
    lines += [f"  {_plan_item(p)}" for p in pairs]
    for skipped in plan.get("skipped_pairs") or []:
        lines.append(f"  {skipped['pair']} skipped: {skipped['reason']}")
    n = plan.get("n_candidates")
    exact = plan.get("exact", True)
    lines.append(
        f"candidates: {n} (exact: the stored surfaces fix every pair)"
        if exact
        else f"candidates: at most {n} (upper bound: surfaces still to be computed)"
    )
    atoms = plan.get("atoms_per_model") or {}
    if atoms:
        lines.append("atoms per pre-screen model:")
        lines += [f"  {name}: {count}" for name, count in atoms.items()]
    cost = plan.get("estimated_cost") or {}
    if cost:
        parts = [
            f"{label} {_duration(cost.get(key))}"
            for key, label in (
                ("surfaces_s", "surfaces"),
                ("prescreen_s", "pre-screen"),
                ("refine_s", "refine"),
            )
            if key in cost
        ]
        lines.append(
            f"estimated cost: {_duration(cost.get('total_s'))} ({', '.join(parts)})"
            + (f"; {cost['basis']}" if cost.get("basis") else "")
        )
    for tier, settings in (plan.get("tier_settings") or {}).items():
        shown = ", ".join(f"{k} {_words_of(v)}" for k, v in settings.items())
        lines.append(f"{tier} tier: {shown}")
    if plan.get("n_refine") is not None:
        lines.append(f"refined per product: the best {plan['n_refine']} by pre-screen W")
    if reused:
        lines.append(f"reused from the database: {', '.join(sorted(reused))}")
    lines.append("dry run: nothing was computed or stored")
    return lines


def _candidate_row(c: dict[str, Any], dominant: bool) -> list[str]:
    """Columns of one candidate: geometry, then the best tier's energetics (J/m^2)."""
    best = c.get("refine") or c.get("prescreen")
    pre = c.get("prescreen")
    geometry = [
        "*" if dominant else "",
        c["candidate_id"],
        f"{100 * c['mismatch']:.1f}%",
        fmt(c["area"], 1),
        str(best["n_atoms"] if best else c["n_atoms"]),
    ]
    if best is None:
        why = "; ".join(f"{tier}: {reason}" for tier, reason in c.get("failed", {}).items())
        return [*geometry, "-", "-", "-", "-", "-", "-", "", "", why or "no result"]
    flags = "wets" if best["wets"] else ""
    return [
        *geometry,
        best["tier"],
        fmt(best["E_f"]),
        fmt(best["sigma"]),
        fmt(best["W_adhesion"]),
        fmt(best["W_adhesion_eq5"]),
        fmt(pre["W_adhesion"]) if pre and c.get("refine") else "",
        flags,
        "yes" if best["strong_adhesion"] else "",
        "; ".join(f"{tier} failed: {reason}" for tier, reason in c.get("failed", {}).items()),
    ]


def _by_adhesion(c: dict[str, Any]) -> tuple[int, float]:
    """Sort key of a candidate in its product's table: refined ones first, then the others.

    Refined candidates by their refined W (Eq. 4), largest first, then the pre-screen-only ones by
    their pre-screen W, then those without a result. W of two tiers (often two calculators) are not
    compared with each other: the refined candidates were the pre-screen's best, and the dominant
    one is the first refined.
    """
    if c.get("refine"):
        return (0, -c["refine"]["W_adhesion"])
    if c.get("prescreen"):
        return (1, -c["prescreen"]["W_adhesion"])
    return (2, 0.0)


def screening_tables(docs: list[dict[str, Any]]) -> None:
    """Each screening: reaction and products, chosen facets, candidates per product by W.

    Per product, a table of its candidates sorted by W_adhesion (Eq. 4): the refined ones by their
    refined W, then the pre-screen-only ones; * marks the dominant one. Then the Spearman rank
    correlation between the tiers, the recommendations for transport MD with their reasons, and as
    notes the skipped facet pairs, the polar facets and the funnel's own notes.
    """
    from rich.console import Console
    from rich.table import Table

    console = Console() if sys.stdout.isatty() else Console(width=200)
    for doc in docs:
        calculators = doc["calculator"]
        if doc.get("refine_calculator") and doc["refine_calculator"] != doc["calculator"]:
            calculators += f" pre-screen, {doc['refine_calculator']} refine"
        console.print(
            f"\n{doc['electrolyte']} against {doc['metal']} ({calculators}): {doc['reaction']}",
            markup=False,
            highlight=False,
        )
        products = Table(title="Reduction products")
        for column in ("product", "carries", "per electrolyte", "molar", "volume", "stability"):
            products.add_column(column)
        for p in doc["products"]:
            stable = {True: "on the hull", False: "ABOVE the hull", None: "not checked"}
            products.add_row(
                p["label"],
                p["element"],
                f"{p['coefficient']:g}",
                _percent(p["molar_fraction"]),
                _percent(p.get("volume_fraction")),
                p.get("stability_note") or stable[p.get("stable")],
            )
        console.print(products)
        facets = Table(title="Facets paired (gamma in J/m^2)")
        for column in ("material", "facet", "terminations", "gamma", "Wulff area", "why"):
            facets.add_column(column)
        for selection in doc["facets"]:
            for f in selection["chosen"]:
                facets.add_row(
                    selection["material"] + (" (reused)" if selection.get("reused") else ""),
                    _facet(f["miller_index"]),
                    ", ".join(f["terminations"]),
                    fmt(f["surface_energy"]),
                    _percent(f.get("area_fraction")),
                    "; ".join(f["reasons"]),
                )
        console.print(facets)
        dominant = set(doc.get("dominant", {}).values())
        for product in [p["label"] for p in doc["products"]]:
            group = [c for c in doc["candidates"] if c["product"] == product]
            table = Table(title=f"{doc['metal']} || {product}: {len(group)} candidate(s) by W")
            for column in ("", "candidate", "mismatch", "area (A^2)", "atoms", "tier", "E_f"):
                table.add_column(column)
            for column in ("sigma", "W (Eq.4)", "W' (Eq.5)", "W pre-screen", "wets", "strong"):
                table.add_column(column)
            table.add_column("note")
            for c in sorted(group, key=_by_adhesion):
                table.add_row(*_candidate_row(c, c["candidate_id"] in dominant))
            console.print(table)
        for line in screening_notes(doc):
            typer.echo(line)  # not through rich: long lines stay whole for grep and logs


def screening_notes(doc: dict[str, Any]) -> list[str]:
    """The lines under a screening's tables: tiers, Spearman, recommendations, notes."""
    lines = ["energies in J/m^2 per interface; * dominant candidate of its product (largest W)"]
    for tier, settings in doc.get("tier_settings", {}).items():
        shown = ", ".join(f"{k} {_words_of(v)}" for k, v in settings.items())
        lines.append(f"{tier} tier: {shown}")
    refined = [c for c in doc["candidates"] if c.get("refine") and c.get("prescreen")]
    if doc.get("spearman") is not None:
        lines.append(
            f"Spearman rank correlation of W between the tiers over {len(refined)} refined "
            f"candidates: {doc['spearman']:.2f}"
        )
    else:
        lines.append(
            f"Spearman rank correlation not computed: {len(refined)} candidate(s) on both "
            "tiers (it needs 3)"
        )
    recommended = doc.get("recommended_for_transport") or []
    if recommended:
        lines.append("recommended for transport MD:")
        lines += [f"  {r['candidate_id']}: {r.get('reason', '')}" for r in recommended]
    else:
        lines.append("recommended for transport MD: none (no candidate with W > 0)")
    for skipped in doc.get("skipped_pairs", []):
        lines.append(f"note: {skipped['pair']} skipped: {skipped['reason']}")
    for selection in doc["facets"]:
        if selection.get("polar"):
            polar = ", ".join(_facet(m) for m in selection["polar"])
            lines.append(
                f"note: {selection['material']} {polar} polar (Tasker 3): reported, not paired"
            )
    lines += [f"note: {n}" for n in doc.get("notes", [])]
    return lines


def _words_of(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, list):
        return "[" + ", ".join(_words_of(v) for v in value) + "]"
    return str(value)


def campaign_status_table(status: dict[str, Any]) -> None:
    """Fireworks per state and stored results of each entry, then the fizzled ones' errors."""
    from rich.console import Console
    from rich.table import Table

    console = Console() if sys.stdout.isatty() else Console(width=160)
    for item in status["rerun"]:
        typer.echo(f"rerun fw {item['fw_id']} '{item['name']}' (reset: {item['reset']})")
    table = Table(title=f"Campaign {status['campaign']}")
    states = ("waiting", "ready", "running", "completed", "fizzled", "other")
    for column in ("stage", "entry", *states, "in the database"):
        table.add_column(column, justify="right" if column in states else "left")
    for entry in status["entries"]:
        found = ", ".join(f"{what} {n}" for what, n in entry["results"].items()) or "-"
        table.add_row(
            entry["stage"],
            entry["entry"],
            *(str(entry["counts"][s] or "") for s in states),
            found,
        )
    console.print(table)
    for entry in status["entries"]:
        for fw in entry["fizzled"]:
            typer.echo(f"fizzled fw {fw['fw_id']} '{fw['name']}': {fw['error']}")
