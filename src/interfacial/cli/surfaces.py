"""Commands of surfaces and interfaces: structures, surfaces, match, interface and their queries."""

from __future__ import annotations

import math

import typer

from interfacial.cli.app import app, explain_empty, query_app
from interfacial.cli.options import (
    AREA_A2,
    ATOMS,
    FRACTION,
    MILLER_INDEX,
    THICKNESS_A,
    number,
)
from interfacial.cli.render import (
    interface_public,
    interface_table,
    match_table,
    print_json,
    surface_public,
    surface_table,
    working,
)
from interfacial.errors import InterfacialError

MILLER_HELP = "Miller indices H K L (conventional cell)."


@app.command()
def structures(
    name: str | None = typer.Argument(None, help="A built-in name or a structure file."),
) -> None:
    """List the built-in structures, or print one (POSCAR format)."""
    from interfacial.structures.library import BUILTIN_PHASES, load_structure

    if name is None:
        for phase in BUILTIN_PHASES.values():
            c = f", c = {phase.c}" if phase.c else ""
            typer.echo(f"{phase.name:6s} {phase.space_group:9s} a = {phase.a}{c} A  ({phase.note})")
        return
    structure = load_structure(name)
    typer.echo(structure.to(fmt="poscar"))


@app.command()
def surfaces(
    structure: str = typer.Argument(..., help="Built-in name (Li, Li2S, ...) or structure file."),
    max_index: int = typer.Option(
        1, "--max-index", help="Largest Miller index (1-4).", callback=MILLER_INDEX
    ),
    miller: list[str] | None = typer.Option(
        None, "--miller", help="Only this facet, e.g. 1,1,0 (repeatable); overrides --max-index."
    ),
    calculator: str | None = typer.Option(None, "--calculator", help="CHGNet (default) or VASP."),
    min_thickness: float = typer.Option(
        8.0,
        "--min-thickness",
        help="Thinnest slab (A).",
        callback=number(
            minimum=0, low_open=True, maximum=1000, unit="A", note="the minimum slab thickness"
        ),
    ),
    max_thickness: float = typer.Option(
        30.0, "--max-thickness", help="Thickest slab (A).", callback=THICKNESS_A
    ),
    vacuum: float = typer.Option(15.0, "--vacuum", help="Vacuum (A).", callback=THICKNESS_A),
    as_json: bool = typer.Option(False, "--json", help="Print JSON instead of a table."),
) -> None:
    """Compute surface energies of every facet and termination; store and print them."""
    from interfacial.api import run_surfaces
    from interfacial.structures.slabs import parse_miller

    millers = [list(parse_miller(m)) for m in miller] if miller else None
    docs = run_surfaces(
        structure,
        max_index=max_index,
        millers=millers,
        calculator=calculator,
        min_thickness=min_thickness,
        max_thickness=max_thickness,
        vacuum=vacuum,
        show_progress=not as_json,
    )
    if as_json:
        print_json([surface_public(d) for d in docs])
    else:
        surface_table(docs, f"Surface energies of {structure}")


@query_app.command("surfaces")
def query_surfaces(
    formula: str | None = typer.Option(None, "--formula", help="Only this formula, e.g. Li2S."),
    all_runs: bool = typer.Option(
        False, "--all", help="Every stored calculation, not only the newest per material."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print JSON instead of a table."),
) -> None:
    """Surface energies stored so far (any process, any earlier run)."""
    from interfacial.api import query_surfaces as query

    docs = query(formula, latest_only=not all_runs)
    if not docs:
        explain_empty()
    if as_json:
        print_json([surface_public(d) for d in docs])
    else:
        surface_table(docs, "Stored surface energies")


@app.command("match")
def match_command(
    metal: str = typer.Argument(..., help="Metal: built-in name (Li, Na) or structure file."),
    compound: str = typer.Argument(..., help="Compound: built-in name or structure file."),
    metal_miller: tuple[int, int, int] = typer.Option(..., "--metal-miller", help=MILLER_HELP),
    compound_miller: tuple[int, int, int] = typer.Option(
        ..., "--compound-miller", help=MILLER_HELP
    ),
    max_area: float | None = typer.Option(
        None, "--max-area", help="Largest area (A^2).", callback=AREA_A2
    ),
    max_mismatch: float | None = typer.Option(
        None,
        "--max-mismatch",
        help="Largest vector mismatch (fraction, default 0.15).",
        callback=FRACTION,
    ),
    as_json: bool = typer.Option(False, "--json", help="Print JSON instead of a table."),
) -> None:
    """Lattice-match a metal facet on a compound facet (geometry only; strain on the metal)."""
    from interfacial.api import match
    from interfacial.structures.slabs import miller_label

    facets = f"{metal} {miller_label(metal_miller)} on {compound} {miller_label(compound_miller)}"
    with working(f"lattice matching {facets}", enabled=not as_json):
        candidates = match(
            metal,
            compound,
            metal_miller,
            compound_miller,
            max_area=max_area,
            max_mismatch=max_mismatch,
        )
    if as_json:
        print_json(candidates)
    else:
        match_table(candidates, facets)


@app.command()
def interface(
    metal: str = typer.Argument(..., help="Metal: built-in name (Li, Na) or structure file."),
    compound: str = typer.Argument(..., help="Compound: built-in name or structure file."),
    metal_miller: tuple[int, int, int] = typer.Option(..., "--metal-miller", help=MILLER_HELP),
    compound_miller: tuple[int, int, int] = typer.Option(
        ..., "--compound-miller", help=MILLER_HELP
    ),
    calculator: str | None = typer.Option(None, "--calculator", help="CHGNet (default) or VASP."),
    max_area: float | None = typer.Option(
        None, "--max-area", help="Largest area (A^2).", callback=AREA_A2
    ),
    max_mismatch: float | None = typer.Option(
        None, "--max-mismatch", help="Fraction.", callback=FRACTION
    ),
    max_atoms: int | None = typer.Option(
        None, "--max-atoms", help="Largest model.", callback=ATOMS
    ),
    metal_thickness: float | None = typer.Option(
        None, "--metal-thickness", help="A.", callback=THICKNESS_A
    ),
    compound_thickness: float | None = typer.Option(
        None, "--compound-thickness", help="A.", callback=THICKNESS_A
    ),
    registry: list[str] | None = typer.Option(
        None, "--registry", help="In-plane shift of the metal, e.g. 0.5,0 (repeatable)."
    ),
    gap: list[float] | None = typer.Option(
        None, "--gap", help="Initial gap (A, repeatable).", callback=THICKNESS_A
    ),
    relaxation: list[str] | None = typer.Option(
        None, "--relaxation", help="fully-relaxed (default), fix-binary, fix-metal (repeatable)."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print JSON instead of a table."),
) -> None:
    """Compute E_f, sigma and W_adhesion of a metal||compound interface; store and print them."""
    from interfacial.api import run_interface

    registries = [_parse_pair(r) for r in registry] if registry else None
    docs = run_interface(
        metal,
        compound,
        metal_miller,
        compound_miller,
        calculator=calculator,
        max_area=max_area,
        max_mismatch=max_mismatch,
        max_atoms=max_atoms,
        metal_thickness=metal_thickness,
        compound_thickness=compound_thickness,
        registries=registries,
        gaps=list(gap) if gap else None,
        relaxations=list(relaxation) if relaxation else None,
        show_progress=not as_json,
    )
    if as_json:
        print_json([interface_public(d) for d in docs])
    else:
        interface_table(docs, f"Interfaces {metal} || {compound}")


def _parse_pair(text: str) -> list[float]:
    parts = text.replace(",", " ").split()
    try:
        pair = [float(p) for p in parts]
    except ValueError:
        pair = []
    if len(pair) != 2 or not all(math.isfinite(x) for x in pair):
        raise InterfacialError(
            f"--registry '{text}' is not two fractions (finite numbers), e.g. 0.5,0"
        )
    return pair


@query_app.command("interfaces")
def query_interfaces(
    metal: str | None = typer.Option(None, "--metal", help="Only this metal, e.g. Li."),
    compound: str | None = typer.Option(None, "--compound", help="Only this compound."),
    all_models: bool = typer.Option(
        False, "--all", help="Every model and run, not only the lowest of the newest."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print JSON instead of a table."),
) -> None:
    """Interface energetics stored so far."""
    from interfacial.api import query_interfaces as query

    docs = query(metal, compound, lowest_only=not all_models, latest_only=not all_models)
    if not docs:
        explain_empty()
    if as_json:
        print_json([interface_public(d) for d in docs])
    else:
        interface_table(docs, "Stored interfaces")
