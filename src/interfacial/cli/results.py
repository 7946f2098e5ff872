"""Commands over everything stored: build the derived properties, write the report's figures."""

from __future__ import annotations

from pathlib import Path

import typer

from interfacial.cli.app import app


@app.command()
def build() -> None:
    """Run the builders: gamma and Wulff shapes, interface energetics, D* and Arrhenius fits."""
    from interfacial.api import build as run_builders

    counts = run_builders()
    typer.echo(
        f"rebuilt {counts['surfaces']} material group(s) of surface energies, "
        f"{counts['interfaces']} interface group(s), {counts['diffusion']} diffusion "
        f"document(s) and {counts['arrhenius']} Arrhenius group(s)"
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
