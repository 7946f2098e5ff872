"""Commands over everything stored: build the derived properties, the report, stored screenings."""

from __future__ import annotations

from pathlib import Path

import typer

from interfacial.cli.app import app, explain_empty, query_app
from interfacial.cli.render import print_json, screening_tables


@app.command()
def build() -> None:
    """Run the builders: gamma and Wulff shapes, interface energetics, D* and Arrhenius fits."""
    from interfacial.api import build as run_builders

    counts = run_builders()
    typer.echo(
        f"rebuilt {counts['surfaces']} material group(s) of surface energies, "
        f"{counts['interfaces']} interface group(s), {counts['diffusion']} diffusion "
        f"document(s) and {counts['arrhenius']} Arrhenius group(s)"
        + (f", {counts['screening']} screening(s)" if "screening" in counts else "")
    )


@app.command()
def report(
    out: Path = typer.Option(Path("interfacial-report"), "--out", help="Directory for figures."),
) -> None:
    """Write figures: Wulff shapes, adhesion bars, models, parity, MSD and Arrhenius plots."""
    from interfacial.api import report as make_report

    paths = make_report(out)
    if not paths:
        typer.echo("nothing to plot yet: run `interfacial surfaces NAME` or `interfacial build`")
    for path in paths:
        typer.echo(f"wrote {path}")


@query_app.command("screening")
def query_screening(
    electrolyte: str | None = typer.Option(
        None, "--electrolyte", help="Only this electrolyte, as it was screened (e.g. Li6PS5Cl)."
    ),
    metal: str | None = typer.Option(None, "--metal", help="Only this metal, e.g. Li."),
    all_runs: bool = typer.Option(
        False, "--all", help="Every stored screening, not only the newest of each."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print JSON instead of tables."),
) -> None:
    """Stored screenings: reaction, products, candidates ranked by W, what to run transport on."""
    from interfacial.api.screening import query_screening as query

    docs = query(electrolyte=electrolyte, metal=metal, latest_only=not all_runs)
    if as_json:
        if not docs:
            explain_empty()
        print_json(docs)
    elif docs:
        screening_tables(docs)
    else:
        from interfacial.settings import get_settings

        settings = get_settings()
        embedded = settings.store_uri is None and not settings.use_jobflow_store
        where = str(settings.data_dir.expanduser().resolve()) if embedded else "the database"
        which = " ".join(
            f"{word} {value}" for word, value in (("of", electrolyte), ("against", metal)) if value
        )
        typer.echo(
            f"no screening {which + ' ' if which else ''}stored yet in {where}: run "
            "`interfacial screen ELECTROLYTE` first"
        )
