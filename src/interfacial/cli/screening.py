"""The screening funnel: ``interfacial screen ELECTROLYTE`` (its query is in cli/results.py).

``screen`` parses, calls :func:`interfacial.api.screening.run_screen` (or ``screen_plan`` with
``--dry-run``) and renders; the funnel itself (reduction, surfaces, facets, matching, the two
tiers, the summary) lives in the API, the flows and the analysis modules.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import typer

from interfacial.cli.app import app
from interfacial.cli.options import (
    AREA_A2,
    CLOSED_FRACTION,
    ENERGY_J_M2,
    FRACTION,
    MILLER_INDEX,
    RATIO,
    SMALL_COUNT,
)
from interfacial.cli.render import print_json, screen_plan_lines, screening_tables
from interfacial.errors import InterfacialError

#: The API's option names -> this command's options, for error lines (the user typed these).
OPTION_NAMES = {
    "metal_millers": "--metal-facets",
    "compound_millers": "--compound-facets",
    "min_area_fraction": "--min-area-fraction",
    "max_gamma_ratio": "--max-gamma-ratio",
    "include_lowest": "--lowest",
    "termination_tolerance": "--termination-tolerance",
    "cells_per_pair": "--cells-per-pair",
    "n_refine": "--refine",
    "max_area": "--max-area",
    "max_mismatch": "--max-mismatch",
    "max_index": "--max-index",
    "refine_calculator": "--refine-calculator",
}
_OPTION_PATTERN = re.compile(r"\b(" + "|".join(OPTION_NAMES) + r")\b")

FACETS_HELP = (
    "Only these {side} facets, e.g. 110,100 or 1,1,0 (repeatable): only their surfaces are "
    "computed (or reused), whatever --max-index."
)


@app.command()
def screen(
    electrolyte: str = typer.Argument(
        ..., help="Electrolyte: a formula (Li6PS5Cl), an alias (LiPON) or a structure file."
    ),
    metal: str | None = typer.Option(
        None, "--metal", help="The metal anode, Li or Na (default: the electrolyte's alkali metal)."
    ),
    compounds: list[str] | None = typer.Option(
        None,
        "--compounds",
        help="Candidate products: built-in names or binary structure files, comma-separated or "
        "repeated (default: every built-in binary of the metal).",
    ),
    calculator: str | None = typer.Option(
        None, "--calculator", help="Surfaces and pre-screen: CHGNet (default), SevenNet, VASP."
    ),
    refine_calculator: str | None = typer.Option(
        None, "--refine-calculator", help="Refine tier (default: --calculator), e.g. VASP."
    ),
    max_index: int = typer.Option(
        1, "--max-index", help="Largest Miller index of the surfaces (1-4).", callback=MILLER_INDEX
    ),
    min_area_fraction: float | None = typer.Option(
        None,
        "--min-area-fraction",
        help="Pair facets with at least this Wulff area fraction (0-1, default 0.05).",
        callback=CLOSED_FRACTION,
    ),
    max_gamma_ratio: float | None = typer.Option(
        None,
        "--max-gamma-ratio",
        help="Also pair facets whose gamma is within this ratio of the lowest (>= 1, default "
        "1.5; 1 keeps the lowest only).",
        callback=RATIO,
    ),
    include_lowest: bool = typer.Option(
        True, "--lowest/--no-lowest", help="Always pair the lowest-gamma facet (default: yes)."
    ),
    termination_tolerance: float | None = typer.Option(
        None,
        "--termination-tolerance",
        help="Pair every termination within this of its facet's lowest (J/m^2, default 0.02).",
        callback=ENERGY_J_M2,
    ),
    metal_facets: list[str] | None = typer.Option(
        None, "--metal-facets", help=FACETS_HELP.format(side="metal")
    ),
    compound_facets: list[str] | None = typer.Option(
        None,
        "--compound-facets",
        help=FACETS_HELP.format(side="product") + " Applied to every product.",
    ),
    cells_per_pair: int | None = typer.Option(
        None,
        "--cells-per-pair",
        help="Matched cells kept per facet/termination pair (default: the tier's, 1 embedded).",
        callback=SMALL_COUNT,
    ),
    refine: int | None = typer.Option(
        None,
        "--refine",
        help="Candidates per product recomputed on the refine tier (default 2).",
        callback=SMALL_COUNT,
    ),
    max_area: float | None = typer.Option(
        None, "--max-area", help="Largest interface area (A^2).", callback=AREA_A2
    ),
    max_mismatch: float | None = typer.Option(
        None, "--max-mismatch", help="Largest vector mismatch (fraction).", callback=FRACTION
    ),
    dry_run: bool = typer.Option(
        False, "--dry-run", help="Print the plan and its estimated cost; run and store nothing."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print JSON instead of tables."),
) -> None:
    """Screen an electrolyte's reduction products against the metal for the interfaces that matter.

    Reduction products -> their surfaces and the metal's (reused when stored) -> the facets that
    matter -> every lattice-matched facet/termination pair on a fast tier -> the top candidates
    per product refined -> one stored screening document (`interfacial query screening`).
    """
    from interfacial.api.screening import run_screen, screen_plan

    options: dict[str, Any] = {
        "max_index": max_index,
        "include_lowest": include_lowest,
        "min_area_fraction": min_area_fraction,
        "max_gamma_ratio": max_gamma_ratio,
        "termination_tolerance": termination_tolerance,
        "metal_millers": parse_facets(metal_facets, "--metal-facets"),
        "compound_millers": parse_facets(compound_facets, "--compound-facets"),
        "cells_per_pair": cells_per_pair,
        "n_refine": refine,
        "max_area": max_area,
        "max_mismatch": max_mismatch,
    }
    # Options left out keep the API's defaults (one place holds them).
    options = {k: v for k, v in options.items() if v is not None}
    common: dict[str, Any] = {
        "metal": metal,
        "compounds": parse_compounds(compounds),
        "calculator": calculator,
        "refine_calculator": refine_calculator,
    }
    if dry_run:
        with option_names():
            plan = screen_plan(electrolyte, **common, **options)
        if as_json:
            print_json(plan)
        else:
            for line in screen_plan_lines(plan):
                typer.echo(line)
        return
    with option_names():
        doc = run_screen(electrolyte, **common, show_progress=not as_json, **options)
    if as_json:
        print_json(doc)
    else:
        screening_tables([doc])


@contextmanager
def option_names() -> Iterator[None]:
    """Error lines of the API name this command's options (``max_area`` -> ``--max-area``)."""
    try:
        yield
    except InterfacialError as exc:
        text = _OPTION_PATTERN.sub(lambda m: OPTION_NAMES[m.group(1)], str(exc))
        raise InterfacialError(text) from None


def parse_compounds(values: list[str] | None) -> list[str] | None:
    """``--compounds`` values: comma-separated or repeated names/files, in order, no repeats."""
    if not values:
        return None
    names: list[str] = []
    for value in values:
        parts = [p.strip() for p in value.split(",")]
        if not all(parts):
            raise InterfacialError(
                f"--compounds '{value}' has an empty entry; give names or files separated by "
                "commas, e.g. Li2S,Li3P,LiCl"
            )
        names += [p for p in parts if p not in names]
    return names


def parse_facets(values: list[str] | None, option: str) -> list[list[int]] | None:
    """Facets of ``--metal-facets`` / ``--compound-facets``.

    Each value is either one facet (``1,1,0``, ``1 1 0``, ``110``) or several in the compact
    form separated by commas (``110,100``): a comma-separated value whose parts are all
    three-digit groups is read as a list. Repeats are dropped.
    """
    if not values:
        return None
    from interfacial.structures.slabs import parse_miller

    facets: list[list[int]] = []
    for value in values:
        parts = [p.strip() for p in value.strip().strip("()[]").split(",")]
        several = len(parts) > 1 and all(len(p) == 3 and p.isdigit() for p in parts)
        for text in parts if several else [value]:
            try:
                miller = list(parse_miller(text))
            except InterfacialError as exc:
                raise InterfacialError(f"{option} '{value}': {exc}") from None
            if miller not in facets:
                facets.append(miller)
    return facets
