"""Force-field relax makers with a process-wide calculator cache.

atomate2's force-field makers build a new ASE calculator in every job; for CHGNet that reloads the
model (about a second each time), which dominates a flow of many small slab relaxations. The
calculator is stateless between ``calculate`` calls on different Atoms, so one instance per
(model, keyword arguments) and process is safe and keeps the weights loaded once.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from atomate2.forcefields.jobs import ForceFieldRelaxMaker, ForceFieldStaticMaker

if TYPE_CHECKING:
    from ase.calculators.calculator import Calculator

_CALCULATORS: dict[str, Calculator] = {}


def apply_torch_threads() -> None:
    """Give PyTorch the thread count of this process's settings (``torch_threads``), if set.

    Read where the job runs (the worker's environment and settings file), not where the flow
    was built: how many threads fit is a property of the node.
    """
    from interfacial.settings import get_settings

    threads = get_settings().torch_threads
    if threads is None:
        return
    import torch

    if torch.get_num_threads() != threads:
        torch.set_num_threads(threads)


def cached_calculator(meta: Any, kwargs: dict[str, Any]) -> Calculator:
    """Return the calculator for ``meta`` and ``kwargs``, built once per process."""
    from atomate2.forcefields.utils import ase_calculator

    key = json.dumps([str(meta), kwargs], sort_keys=True, default=str)
    if key not in _CALCULATORS:
        apply_torch_threads()
        calculator = ase_calculator(meta, **kwargs)
        if calculator is None:
            raise ValueError(f"no ASE calculator for {meta!r}; is its package installed?")
        _CALCULATORS[key] = calculator
    return _CALCULATORS[key]


@dataclass
class CachedForceFieldRelaxMaker(ForceFieldRelaxMaker):
    """Relaxation with any atomate2 force field, its calculator built once per process.

    The engine (:class:`~interfacial.forcefields.engine.ForceFieldEngine`) sets
    ``force_field_name`` (atomate2's name, e.g. "CHGNet") and the job name. Relaxation stops when
    max |F| < ``relax_kwargs['fmax']`` (eV/A); ``relax_cell`` relaxes the cell too (bulk),
    ``relax_cell=False`` keeps it fixed (slabs).
    """

    name: str = "force field relax"
    relax_cell: bool = True
    steps: int = 500
    relax_kwargs: dict = field(default_factory=lambda: {"fmax": 0.02})

    def _get_calculator(self) -> Calculator:
        return cached_calculator(self.calculator_meta, self.calculator_kwargs)


@dataclass
class CachedForceFieldStaticMaker(ForceFieldStaticMaker):
    """Single point (energy eV, forces eV/A, stress) with any atomate2 force field, cached.

    The labels of active learning when a force field is the reference calculator.
    """

    name: str = "force field static"

    def _get_calculator(self) -> Calculator:
        return cached_calculator(self.calculator_meta, self.calculator_kwargs)
