"""Parity plots of a potential: predicted against reference energies per atom and forces."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from itertools import cycle
from pathlib import Path

import numpy as np
from ase import Atoms

from interfacial.errors import InterfacialError
from interfacial.mtp.metrics import errors_between

_COLOURS = ("tab:blue", "tab:orange", "tab:green", "tab:red", "tab:purple")


def parity_figure(
    reference: Mapping[str, Sequence[Atoms]],
    predicted: Mapping[str, Sequence[Atoms]],
    path: str | Path,
) -> Path:
    """Write a two-panel parity plot (energy per atom, force components) to ``path``.

    Parameters
    ----------
    reference
        Labelled configurations per set, e.g. ``{"train": [...], "validation": [...]}``.
    predicted
        The same configurations labelled by the potential (:func:`interfacial.mtp.metrics.predict`),
        with the same set names.
    path
        Image file (PNG or any format matplotlib writes); parents are created.

    Returns
    -------
    pathlib.Path
        The path written. Each set has its own colour, and its RMSE (meV/atom, meV/A) is in the
        legend.

    """
    if not reference or set(reference) != set(predicted):
        raise InterfacialError(
            f"parity plot needs the same set names on both sides, got {sorted(reference)} and "
            f"{sorted(predicted)}"
        )
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    # A Figure with the Agg canvas, not pyplot: files only, no display, no global state.
    figure = Figure(figsize=(9.0, 4.2), layout="constrained")
    FigureCanvasAgg(figure)
    ax_e, ax_f = figure.subplots(1, 2)
    for colour, name in zip(cycle(_COLOURS), reference):
        ref, pred = reference[name], predicted[name]
        errors = errors_between(ref, pred)
        e_ref = [a.calc.results["energy"] / len(a) for a in ref]
        e_pred = [a.calc.results["energy"] / len(a) for a in pred]
        f_ref = np.concatenate([np.ravel(a.calc.results["forces"]) for a in ref])
        f_pred = np.concatenate([np.ravel(a.calc.results["forces"]) for a in pred])
        ax_e.scatter(
            e_ref,
            e_pred,
            s=12,
            color=colour,
            alpha=0.8,
            label=f"{name} ({len(ref)}): RMSE {errors['energy_rmse']:.2f} meV/atom",
        )
        ax_f.scatter(
            f_ref,
            f_pred,
            s=4,
            color=colour,
            alpha=0.5,
            label=f"{name}: RMSE {errors['force_rmse']:.1f} meV/A",
        )
    for ax, quantity in ((ax_e, "energy (eV/atom)"), (ax_f, "force component (eV/A)")):
        low, high = ax.get_xlim()
        y_low, y_high = ax.get_ylim()
        span = (min(low, y_low), max(high, y_high))
        ax.plot(span, span, color="0.4", lw=0.8, zorder=0)
        ax.set_xlim(span)
        ax.set_ylim(span)
        ax.set_aspect("equal")
        ax.set_xlabel(f"reference {quantity}")
        ax.set_ylabel(f"MTP {quantity}")
        ax.legend(fontsize=8, loc="upper left")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=120)
    return path
