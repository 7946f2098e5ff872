"""Numeric options checked as they are parsed: finite and within the range the help states.

``typer.Option(1.0, "--time-step", callback=number(minimum=0, low_open=True, unit="fs"))``
refuses ``nan``, ``inf`` and out-of-range values with one line naming the option, before the
command starts (the command-line face of :func:`interfacial.validation.check_number`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import typer

from interfacial.validation import check_number


def number(**bounds: Any) -> Callable[[typer.CallbackParam, Any], Any]:
    """A typer callback checking an option's value (or each value of a repeatable option).

    ``bounds`` are the keyword arguments of :func:`~interfacial.validation.check_number`
    (minimum, maximum, low_open, high_open, integer, unit, note).
    """

    def check(param: typer.CallbackParam, value: Any) -> Any:
        name = max(param.opts, key=len) if param.opts else str(param.name)
        for v in value if isinstance(value, list | tuple) else [value]:
            check_number(v, name, **bounds)
        return value

    return check


#: Reusable checks of the quantities that recur across commands.
POSITIVE = number(minimum=0, low_open=True)
#: Counts of steps, configurations, iterations: beyond 10^7 a count is a typo, not a study.
COUNT = number(minimum=1, maximum=10**7, integer=True)
TEMPERATURE = number(
    minimum=0, low_open=True, maximum=5000, unit="K", note="a positive temperature"
)
TIME_STEP_FS = number(minimum=0, low_open=True, maximum=20, unit="fs", note="the MD time step")
#: MD durations: up to 1 us, far beyond any run, but finite.
DURATION_PS = number(minimum=0, maximum=1e6, unit="ps")
FRACTION = number(minimum=0, maximum=1, low_open=True, high_open=True, note="a fraction")
ATOMS = number(minimum=1, maximum=100_000, integer=True)
THICKNESS_A = number(minimum=0, low_open=True, maximum=1000, unit="A")
#: A production run must be long enough to hold frames.
PRODUCTION_PS = number(minimum=0, low_open=True, maximum=1e6, unit="ps")
#: Time between stored frames: up to 1 ns.
FRAME_FS = number(minimum=0, low_open=True, maximum=1e6, unit="fs")
#: The time step of a trajectory (MD step of a dump, or time between stored frames).
TRAJECTORY_STEP_FS = number(
    minimum=0, low_open=True, maximum=1e6, unit="fs", note="the time step (fs per step or frame)"
)
#: Interface areas: the matching's own bound (structures.matching, 1000 A^2).
AREA_A2 = number(minimum=0, low_open=True, maximum=1000, unit="A^2")
#: Largest Miller index: structures.slabs.MAX_MILLER_INDEX (not imported: --help stays fast).
MILLER_INDEX = number(minimum=1, maximum=4, integer=True)
#: A share that may be 0 or 1 itself (a Wulff area fraction threshold: 0 keeps every facet).
CLOSED_FRACTION = number(minimum=0, maximum=1, note="a fraction from 0 to 1")
#: A ratio to the lowest value (gamma / lowest gamma): 1 keeps the lowest only; beyond 10 the
#: criterion keeps every facet anyway.
RATIO = number(minimum=1, maximum=10, note="a ratio to the lowest, at least 1")
#: Surface energies (J/m^2): a tolerance between terminations of one facet.
ENERGY_J_M2 = number(minimum=0, maximum=10, unit="J/m^2")
#: Counts of candidates per pair or per product: a screen of more than 1000 is a typo.
SMALL_COUNT = number(minimum=1, maximum=1000, integer=True)


def mtp_level(param: typer.CallbackParam, value: int) -> int:
    """A level the MTP engines ship (checked here so no reference MD runs for a bad level)."""
    from interfacial.errors import InterfacialError
    from interfacial.mtp.basis import SUPPORTED_LEVELS

    if value not in SUPPORTED_LEVELS:
        raise InterfacialError(
            f"--level {value} is not an MTP level; choose one of "
            f"{', '.join(str(v) for v in SUPPORTED_LEVELS)}"
        )
    return value
