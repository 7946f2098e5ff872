"""Fit and validation errors of a potential against reference labels.

Every error is a root-mean-square deviation (RMSE) between predicted and reference values:

- energy per atom: ``sqrt(mean_c ((E_pred,c - E_ref,c) / N_c)^2)``, over configurations c of
  N_c atoms, in meV/atom;
- forces: ``sqrt(mean over all atoms and all three components (F_pred - F_ref)^2)``, in meV/A;
- stress: ``sqrt(mean over configurations and the six Voigt components (s_pred - s_ref)^2)``, in
  GPa (ASE stresses in eV/A^3).

The study's targets (SCIENCE.md section 4) are <= 10 meV/atom and <= 30 meV/A.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import numpy.typing as npt
from ase import Atoms
from ase.calculators.calculator import Calculator
from ase.calculators.singlepoint import SinglePointCalculator
from ase.units import GPa

from interfacial.errors import InterfacialError

ENERGY_TARGET = 10.0
"""Largest acceptable energy RMSE (meV/atom)."""
FORCE_TARGET = 30.0
"""Largest acceptable force RMSE (meV/A)."""

ArrayLike = npt.ArrayLike


def rmse_energy_per_atom(reference: ArrayLike, predicted: ArrayLike, n_atoms: ArrayLike) -> float:
    """RMSE of the energy per atom (meV/atom).

    Parameters
    ----------
    reference, predicted
        Total energies of the configurations (eV).
    n_atoms
        Number of atoms of each configuration.

    Returns
    -------
    float
        ``1000 sqrt(mean(((E_pred - E_ref) / N)^2))`` in meV/atom.

    """
    ref, pred, n = (np.asarray(x, dtype=float) for x in (reference, predicted, n_atoms))
    if not ref.size or ref.shape != pred.shape or ref.shape != n.shape or np.any(n <= 0):
        raise InterfacialError(
            "energy RMSE needs equally many (> 0) reference and predicted energies and positive "
            f"atom counts, got shapes {ref.shape}, {pred.shape}, {n.shape}"
        )
    return 1000.0 * float(np.sqrt(np.mean(((pred - ref) / n) ** 2)))


def rmse_forces(reference: Sequence[ArrayLike], predicted: Sequence[ArrayLike]) -> float:
    """RMSE of the force components (meV/A) over all atoms of all configurations.

    Parameters
    ----------
    reference, predicted
        One (N_c, 3) array of forces (eV/A) per configuration.

    Returns
    -------
    float
        ``1000 sqrt(mean((F_pred - F_ref)^2))`` over every component, in meV/A.

    """
    if len(reference) != len(predicted) or not len(reference):
        raise InterfacialError("force RMSE needs equally many (> 0) configurations on both sides")
    ref = np.concatenate([np.asarray(f, dtype=float).reshape(-1, 3) for f in reference])
    pred = np.concatenate([np.asarray(f, dtype=float).reshape(-1, 3) for f in predicted])
    if ref.shape != pred.shape:
        raise InterfacialError(f"force arrays differ in size: {ref.shape} vs {pred.shape}")
    return 1000.0 * float(np.sqrt(np.mean((pred - ref) ** 2)))


def rmse_stress(reference: ArrayLike, predicted: ArrayLike) -> float:
    """RMSE of the stress components (GPa).

    Parameters
    ----------
    reference, predicted
        Stresses in Voigt form (xx, yy, zz, yz, xz, xy), eV/A^3, shape (configurations, 6).

    Returns
    -------
    float
        ``sqrt(mean((s_pred - s_ref)^2))`` over the six components, converted to GPa.

    """
    ref = np.asarray(reference, dtype=float).reshape(-1, 6)
    pred = np.asarray(predicted, dtype=float).reshape(-1, 6)
    if not ref.size or ref.shape != pred.shape:
        raise InterfacialError(f"stress arrays differ in size: {ref.shape} vs {pred.shape}")
    return float(np.sqrt(np.mean((pred - ref) ** 2))) / GPa


def _result(atoms: Atoms, key: str, index: int, role: str) -> Any:
    results = getattr(atoms.calc, "results", None) or {}
    if key not in results:
        raise InterfacialError(f"{role} configuration {index} has no stored {key}")
    return results[key]


def fit_neighbour_list(calculator: Calculator, atoms: Atoms) -> None:
    """Let a motep calculator meet a configuration with another number of atoms.

    motep 0.2.0 keeps one neighbour list per calculator and fails ("Wrong number of cutoff
    radii") when the next configuration has another number of atoms (training sets that mix
    cells with cut neighbourhoods do): drop the list so that motep builds a new one. Other
    calculators are left alone.
    """
    engine = getattr(calculator, "engine", None)
    neighbours = getattr(engine, "neighbor_list", None)
    if neighbours is not None and len(neighbours.cutoffs) != len(atoms):
        engine.neighbor_list = None  # type: ignore[union-attr]


def predict(calculator: Calculator, configurations: Sequence[Atoms]) -> list[Atoms]:
    """Copies of ``configurations`` labelled by ``calculator`` (SinglePointCalculators).

    Energy (eV), forces (eV/A) and, for periodic configurations, stress (eV/A^3).
    """
    predicted = []
    for atoms in configurations:
        fit_neighbour_list(calculator, atoms)
        probe = atoms.copy()
        probe.calc = calculator
        results: dict[str, Any] = {
            "energy": probe.get_potential_energy(),
            "forces": probe.get_forces(),
        }
        if probe.pbc.all():
            results["stress"] = probe.get_stress()
        probe.calc = SinglePointCalculator(probe, **results)
        predicted.append(probe)
    return predicted


def errors_between(reference: Sequence[Atoms], predicted: Sequence[Atoms]) -> dict[str, Any]:
    """Errors of ``predicted`` labels against ``reference`` labels (same configurations).

    Returns
    -------
    dict
        ``n_configurations``, ``n_atoms`` (total), ``energy_rmse`` (meV/atom), ``force_rmse``
        (meV/A) and ``stress_rmse`` (GPa; None when no reference has a stress).

    """
    if len(reference) != len(predicted) or not len(reference):
        raise InterfacialError(
            f"need the same (> 0) number of reference and predicted configurations, got "
            f"{len(reference)} and {len(predicted)}"
        )
    e_ref = [_result(a, "energy", k, "reference") for k, a in enumerate(reference)]
    e_pred = [_result(a, "energy", k, "predicted") for k, a in enumerate(predicted)]
    f_ref = [_result(a, "forces", k, "reference") for k, a in enumerate(reference)]
    f_pred = [_result(a, "forces", k, "predicted") for k, a in enumerate(predicted)]
    with_stress = [
        k for k, a in enumerate(reference) if "stress" in (getattr(a.calc, "results", None) or {})
    ]
    stress = None
    if with_stress:
        stress = rmse_stress(
            [_result(reference[k], "stress", k, "reference") for k in with_stress],
            [_result(predicted[k], "stress", k, "predicted") for k in with_stress],
        )
    return {
        "n_configurations": len(reference),
        "n_atoms": int(sum(len(a) for a in reference)),
        "energy_rmse": rmse_energy_per_atom(e_ref, e_pred, [len(a) for a in reference]),
        "force_rmse": rmse_forces(f_ref, f_pred),
        "stress_rmse": stress,
    }


def errors_on(calculator: Calculator, configurations: Sequence[Atoms]) -> dict[str, Any]:
    """Errors of ``calculator`` on labelled ``configurations`` (see :func:`errors_between`)."""
    return errors_between(configurations, predict(calculator, configurations))


def meets_targets(
    errors: dict[str, Any], energy: float = ENERGY_TARGET, force: float = FORCE_TARGET
) -> bool:
    """True if the energy RMSE <= ``energy`` (meV/atom) and force RMSE <= ``force`` (meV/A)."""
    return bool(errors["energy_rmse"] <= energy and errors["force_rmse"] <= force)
