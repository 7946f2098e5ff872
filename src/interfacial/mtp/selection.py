"""Which configurations active learning labels, from their extrapolation grades.

MLIP's ``select-add`` picks them; motep computes the grades but has no selection, so it is
written here, independent of the engine that graded.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from interfacial.errors import InterfacialError
from interfacial.mtp.defaults import SELECT_THRESHOLD


def select_for_labelling(
    grades: Sequence[float],
    threshold: float = SELECT_THRESHOLD,
    max_selected: int = 10,
    min_separation: int = 1,
) -> list[int]:
    """Indices of the configurations to label: highest grades above ``threshold`` first.

    ``min_separation`` (in trajectory frames) keeps the selection from being several nearly
    identical consecutive snapshots of one excursion. Returned in trajectory order.
    """
    if threshold < 1.0:
        raise InterfacialError(f"grade threshold {threshold} < 1 would select interpolation")
    order = np.argsort(-np.asarray(grades, dtype=float), kind="stable")
    chosen: list[int] = []
    for index in order:
        if grades[index] <= threshold or len(chosen) >= max_selected:
            break
        if all(abs(int(index) - c) >= min_separation for c in chosen):
            chosen.append(int(index))
    return sorted(chosen)
