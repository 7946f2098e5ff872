"""The screening funnel: from an electrolyte to ranked metal||product interfaces.

The command line (``interfacial screen``), the campaign's ``screen:`` stage and Python call
only the four functions here: :func:`screen_flow` (the Flow, not run), :func:`screen_plan`
(a dry run: what would be computed and an estimate of the cost, nothing run),
:func:`run_screen` (run here, build, return the ScreeningDocument) and
:func:`query_screening`.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from interfacial.errors import InterfacialError
from interfacial.settings import InterfacialSettings, get_settings

if TYPE_CHECKING:
    from collections.abc import Sequence

    from jobflow import Flow


def screen_flow(
    electrolyte: str | Path,
    *,
    metal: str | None = None,
    compounds: Sequence[str | Path] | None = None,
    calculator: str | None = None,
    refine_calculator: str | None = None,
    settings: InterfacialSettings | None = None,
    **options: Any,
) -> Flow:
    """Validate the input and return the screening Flow (not run)."""
    raise InterfacialError("screen_flow is not implemented yet")


def screen_plan(
    electrolyte: str | Path,
    *,
    metal: str | None = None,
    compounds: Sequence[str | Path] | None = None,
    calculator: str | None = None,
    refine_calculator: str | None = None,
    settings: InterfacialSettings | None = None,
    **options: Any,
) -> dict[str, Any]:
    """What a screen would compute and an estimate of its cost; runs no calculation."""
    raise InterfacialError("screen_plan is not implemented yet")


def run_screen(
    electrolyte: str | Path,
    *,
    metal: str | None = None,
    compounds: Sequence[str | Path] | None = None,
    calculator: str | None = None,
    refine_calculator: str | None = None,
    settings: InterfacialSettings | None = None,
    show_progress: bool = True,
    **options: Any,
) -> dict[str, Any]:
    """Run the screen here, build, and return the ScreeningDocument (``model_dump``)."""
    raise InterfacialError("run_screen is not implemented yet")


def query_screening(
    settings: InterfacialSettings | None = None,
    *,
    electrolyte: str | None = None,
    metal: str | None = None,
    latest_only: bool = True,
) -> list[dict[str, Any]]:
    """Stored screening documents, newest first per screening_id."""
    del settings, electrolyte, metal, latest_only
    get_settings()
    raise InterfacialError("query_screening is not implemented yet")
