"""NVT molecular dynamics through ASE with any calculator: ramp, then production with snapshots.

Used by the force-field reference MD (:mod:`interfacial.forcefields.md`) and by active learning's
exploration with a fitted potential (:mod:`interfacial.mtp.active`).

The loop is short: ASE's ``NoseHooverChainNVT`` (present in ase 3.29), Maxwell-Boltzmann
velocities from a seeded generator with zero total momentum, a linear ramp made by stepping the
thermostat target every step, then a fresh thermostat at the production temperature and a
labelled snapshot (SinglePointCalculator: energy, forces, stress) every ``snapshot_interval``
steps. It takes any ASE calculator, so the thermostat is tested with a cheap Lennard-Jones one.
"""

from __future__ import annotations

import contextlib
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from collections.abc import Callable

    from ase import Atoms
    from ase.calculators.calculator import Calculator

#: Thermostat time constant in units of the time step when none is given (ASE's advice).
DEFAULT_TDAMP_STEPS = 100


@dataclass
class NVTResult:
    """Labelled production snapshots of :func:`run_nvt`.

    Attributes
    ----------
    frames : list[ase.Atoms]
        Snapshots with momenta and a SinglePointCalculator (energy eV, forces eV/A, stress
        eV/A^3 when the calculator gives it).
    steps : list[int]
        Production step of each snapshot (1-based).
    elapsed_time : float
        Wall time of the whole run, ramp included (s).
    ended : str
        'completed', 'stopped by on_snapshot' or 'non-finite dynamics'.

    """

    frames: list[Atoms]
    steps: list[int]
    elapsed_time: float
    ended: str = "completed"


def _label(atoms: Atoms) -> Atoms:
    """Copy of ``atoms`` (momenta kept) holding the current results as a SinglePointCalculator."""
    from ase.calculators.calculator import PropertyNotImplementedError
    from ase.calculators.singlepoint import SinglePointCalculator

    results: dict[str, Any] = {
        "energy": float(atoms.get_potential_energy()),
        "forces": np.array(atoms.get_forces()),
    }
    if atoms.pbc.all():
        # Not every calculator gives a stress; a snapshot without one still trains E and F.
        with contextlib.suppress(PropertyNotImplementedError):
            results["stress"] = np.array(atoms.get_stress(voigt=True))
    snapshot = atoms.copy()
    snapshot.calc = SinglePointCalculator(snapshot, **results)
    return snapshot


def _set_target(dynamics: Any, temperature: float) -> None:
    """Move the Nose-Hoover chain's target temperature (K).

    ASE's ``NoseHooverChainNVT`` has no public setter; its thermostat keeps the target as
    ``kB T`` in ``_kT``. Checked so that a change in ASE fails loudly instead of silently
    leaving the ramp flat.
    """
    from ase import units

    thermostat = getattr(dynamics, "_thermostat", None)
    if thermostat is None or not hasattr(thermostat, "_kT"):
        raise RuntimeError("this ASE version's NoseHooverChainNVT cannot change its target")
    thermostat._kT = units.kB * temperature


def run_nvt(
    atoms: Atoms,
    calculator: Calculator,
    *,
    temperature: float,
    ramp_start_temperature: float,
    time_step: float,
    ramp_steps: int,
    production_steps: int,
    snapshot_interval: int,
    seed: int = 0,
    tdamp: float | None = None,
    on_snapshot: Callable[[Atoms], bool] | None = None,
    stop_on_nonfinite: bool = False,
) -> NVTResult:
    """Ramp linearly to ``temperature``, then run NVT (Nose-Hoover chain) with snapshots.

    Parameters
    ----------
    atoms : ase.Atoms
        Start configuration (not modified).
    calculator : ase Calculator
        Energy, forces (and stress) provider.
    temperature : float
        Production temperature (K), also the end of the ramp.
    ramp_start_temperature : float
        Temperature of the initial Maxwell-Boltzmann velocities and first ramp target (K).
    time_step : float
        Time step (fs).
    ramp_steps : int
        Steps of the ramp; the target goes linearly from ``ramp_start_temperature`` to
        ``temperature``, reaching it at the last ramp step. 0: no ramp, velocities drawn at
        ``temperature``.
    production_steps : int
        Steps at constant target ``temperature``.
    snapshot_interval : int
        A snapshot after every ``snapshot_interval`` production steps: ``production_steps //
        snapshot_interval`` snapshots, at steps interval, 2 x interval, ...
    seed : int
        Seed of the Maxwell-Boltzmann velocities.
    tdamp : float, optional
        Thermostat time constant (fs); default 100 time steps.
    on_snapshot : callable, optional
        Called with each snapshot; returning True ends the run there (e.g. an extrapolation
        grade above a break threshold).
    stop_on_nonfinite : bool
        End the run, keeping the snapshots so far, when positions stop being finite (MD with a
        potential far outside its domain) instead of raising.

    Returns
    -------
    NVTResult
        The snapshots and the wall time.

    """
    from ase import units
    from ase.md.nose_hoover_chain import NoseHooverChainNVT
    from ase.md.velocitydistribution import MaxwellBoltzmannDistribution, Stationary

    atoms = atoms.copy()
    atoms.calc = calculator
    damping = (DEFAULT_TDAMP_STEPS * time_step if tdamp is None else tdamp) * units.fs
    start = ramp_start_temperature if ramp_steps > 0 else temperature
    MaxwellBoltzmannDistribution(atoms, temperature_K=start, rng=np.random.default_rng(seed))
    # Zero total momentum: the thermostat scales all momenta alike, so none appears later and the
    # cell does not drift (a drift would count as temperature).
    Stationary(atoms)
    t0 = time.perf_counter()
    if ramp_steps > 0:
        ramp = NoseHooverChainNVT(atoms, time_step * units.fs, temperature_K=start, tdamp=damping)

        def _step_target() -> None:
            # Called after step n (and once before step 1): set the target of step n + 1.
            n_next = min(ramp.nsteps + 1, ramp_steps)
            _set_target(ramp, start + (temperature - start) * n_next / ramp_steps)

        ramp.attach(_step_target, interval=1)
        ramp.run(ramp_steps)
    # A fresh thermostat for production: its mass Q = 3 N kB T tdamp^2 then matches the
    # production temperature rather than the ramp's start.
    production = NoseHooverChainNVT(
        atoms, time_step * units.fs, temperature_K=temperature, tdamp=damping
    )
    frames: list[Atoms] = []
    steps: list[int] = []
    done = 0
    for k in range(1, production_steps // snapshot_interval + 1):
        try:
            with np.errstate(all="ignore" if stop_on_nonfinite else "warn"):
                production.run(snapshot_interval)
            finite = bool(np.all(np.isfinite(atoms.positions)))
        except (ValueError, FloatingPointError):
            if not stop_on_nonfinite:
                raise
            finite = False
        if not finite and stop_on_nonfinite:
            return NVTResult(frames, steps, time.perf_counter() - t0, "non-finite dynamics")
        done = k * snapshot_interval
        frames.append(_label(atoms))
        steps.append(done)
        if on_snapshot is not None and on_snapshot(frames[-1]):
            return NVTResult(frames, steps, time.perf_counter() - t0, "stopped by on_snapshot")
    if production_steps > done:
        production.run(production_steps - done)
    return NVTResult(frames=frames, steps=steps, elapsed_time=time.perf_counter() - t0)
