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
    """The tables of a campaign run: surfaces, interfaces, MTP rounds, D*, Arrhenius fits.

    ``result`` is a :class:`interfacial.campaign.CampaignResult`; ``titles`` names the tables
    (keys surfaces, interfaces, diffusion, arrhenius). A stage the campaign does not have
    prints nothing (an interface stage computes surfaces too, so it prints both).
    """
    campaign = result.campaign
    if campaign.surfaces or campaign.interfaces:
        surface_table(result.surfaces, titles["surfaces"])
    if campaign.interfaces:
        interface_table(result.interfaces, titles["interfaces"])
    for learned in result.potentials:
        learning_summary(learned)
    if campaign.transport:
        diffusion_table(result.diffusion, titles["diffusion"])
        arrhenius_table(result.arrhenius, titles["arrhenius"])
