"""The typer application, its ``query`` group, the one error path and the entry point.

Each command module adds its commands to :data:`app` (or :data:`query_app`): a command parses its
options, calls one API function and renders the result (:mod:`interfacial.cli.render`). Heavy
libraries are imported inside commands only, so ``--help`` stays fast.

Errors take one path: :class:`InterfacialGroup` runs every command and turns whatever escapes it
into one ``error:`` line on stderr with the secrets of any URI masked: bad input
(:class:`~interfacial.errors.InterfacialError`, a malformed option) and failures of a dependency
(a file, a store, a settings file) exit with 2, anything else is a bug and exits with 1. With
``--debug`` (or ``INTERFACIAL_DEBUG=1``) the traceback follows the line.
"""

from __future__ import annotations

import os
import sys
import traceback
from collections.abc import Sequence
from typing import Any

import typer
from typer.core import TyperGroup

from interfacial.errors import InterfacialError, one_line

#: Exit status of bad input and of failures the user can fix (nothing was stored).
EXIT_BAD_INPUT = 2
#: Exit status of an unexpected error (a bug: the traceback is shown with --debug).
EXIT_BUG = 1


def describe_failure(exc: BaseException) -> tuple[str, int]:
    """The one line a user reads for ``exc`` and the exit status.

    Dependencies fail with their own exception types; each is named here once, with what to do.
    """
    if isinstance(exc, InterfacialError):
        return str(exc), EXIT_BAD_INPUT
    if isinstance(exc, typer.TyperException):  # a malformed command line (typer's own click)
        ctx = getattr(exc, "ctx", None)
        where = f" (see `{ctx.command_path} --help`)" if ctx is not None else ""
        return exc.format_message() + where, EXIT_BAD_INPUT
    if isinstance(exc, UnicodeDecodeError):
        return (
            f"a file is not UTF-8 text ({exc.reason} at byte {exc.start}); save it as UTF-8",
            EXIT_BAD_INPUT,
        )
    if isinstance(exc, MemoryError):
        return "out of memory: use a smaller input (fewer atoms, lower indices)", EXIT_BAD_INPUT
    if isinstance(exc, OSError) and exc.strerror:
        target = f": {exc.filename}" if exc.filename else ""
        return f"{exc.strerror}{target}", EXIT_BAD_INPUT
    name = type(exc).__module__.split(".")[0]
    if name == "sqlite3":
        return (
            f"the embedded database could not be read ({exc}); restore or move away the "
            "damaged collection file in INTERFACIAL_DATA_DIR",
            EXIT_BAD_INPUT,
        )
    if name == "pymongo":
        return f"MongoDB: {type(exc).__name__}: {exc}; check store_uri and the server", (
            EXIT_BAD_INPUT
        )
    if name == "yaml":
        return f"not valid YAML: {exc}", EXIT_BAD_INPUT
    if name in ("pydantic", "pydantic_core") and hasattr(exc, "errors"):
        # Never the offending values: a settings error would otherwise print a MongoDB URI.
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc']) or 'input'}: {err['msg']}"
            for err in exc.errors()
        )
        return f"invalid input: {problems}", EXIT_BAD_INPUT
    return (
        f"unexpected {type(exc).__name__}: {exc} (this is a bug: rerun with --debug and report "
        "the traceback)",
        EXIT_BUG,
    )


def _debugging() -> bool:
    return os.environ.get("INTERFACIAL_DEBUG", "").strip().lower() in ("1", "true", "yes")


class InterfacialGroup(TyperGroup):
    """The application's command group: every command runs inside the one error path."""

    def main(  # type: ignore[override]
        self,
        args: Sequence[str] | None = None,
        prog_name: str | None = None,
        complete_var: str | None = None,
        standalone_mode: bool = True,
        **extra: Any,
    ) -> Any:
        """Run a command; print one ``error:`` line and exit 2 (or 1) for what escapes it."""
        argv = list(sys.argv[1:] if args is None else args)
        debug = "--debug" in argv[: argv.index("--") if "--" in argv else len(argv)]
        debug = debug or _debugging()
        try:
            result = super().main(
                argv, prog_name or "interfacial", complete_var, standalone_mode=False, **extra
            )
        except (typer.Abort, KeyboardInterrupt):
            typer.echo("interrupted", err=True)
            status = 130
        except Exception as exc:  # the one place where any failure becomes one line
            if debug:
                traceback.print_exc()
            message, status = describe_failure(exc)
            typer.echo(f"error: {one_line(message)}", err=True)
        else:
            if not standalone_mode:
                return result
            status = result if isinstance(result, int) else 0
        if standalone_mode:
            sys.exit(status)
        raise typer.Exit(status)


app = typer.Typer(
    cls=InterfacialGroup,
    help="Alkali-metal anode || solid-electrolyte interphases: surfaces, interfaces, transport.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
query_app = typer.Typer(help="Read results back from the database.", no_args_is_help=True)
app.add_typer(query_app, name="query")


@app.callback()
def _options(
    debug: bool = typer.Option(
        False, "--debug", help="After an error line, show the traceback (INTERFACIAL_DEBUG=1)."
    ),
) -> None:
    """Alkali-metal anode || solid-electrolyte interphases: surfaces, interfaces, transport."""


def say(text: str) -> None:
    """Progress to stderr; results go to stdout."""
    typer.echo(text, err=True)


def explain_empty() -> None:
    """Say on stderr why a query found nothing when no database exists yet (it creates none)."""
    from interfacial.api import empty_database_note

    note = empty_database_note()
    if note:
        say(f"{note}: run a command that computes (e.g. `interfacial surfaces Li`) first")


def main() -> None:
    """Console-script entry point (the commands registered by :mod:`interfacial.cli`)."""
    app()
