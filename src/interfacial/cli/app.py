"""The typer application, its ``query`` group, the one error path and the entry point.

Each command module adds its commands to :data:`app` (or :data:`query_app`): a command parses its
options, calls one API function and renders the result (:mod:`interfacial.cli.render`). Heavy
libraries are imported inside commands only, so ``--help`` stays fast.
"""

from __future__ import annotations

import sys
from typing import NoReturn

import typer

app = typer.Typer(
    help="Alkali-metal anode || solid-electrolyte interphases: surfaces, interfaces, transport.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
query_app = typer.Typer(help="Read results back from the database.", no_args_is_help=True)
app.add_typer(query_app, name="query")


def fail(message: str) -> NoReturn:
    """Print one ``error:`` line on stderr and exit with status 2 (bad input, nothing stored)."""
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(2)


def say(text: str) -> None:
    """Progress to stderr; results go to stdout."""
    typer.echo(text, err=True)


def main() -> None:
    """Console-script entry point (the commands registered by :mod:`interfacial.cli`)."""
    try:
        app()
    except KeyboardInterrupt:
        sys.exit(130)
