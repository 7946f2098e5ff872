"""Moment tensor potentials: training sets, fitting engines, errors and parity plots.

Engine-independent core: :mod:`~interfacial.mtp.cfg` (MLIP training files),
:mod:`~interfacial.mtp.basis` (untrained potentials of a level),
:mod:`~interfacial.mtp.potential` (the fitted potential and its identity),
:mod:`~interfacial.mtp.metrics` and :mod:`~interfacial.mtp.parity`. Engines (motep, ``mlp``)
live in :mod:`~interfacial.mtp.engine` behind the :class:`~interfacial.mtp.engine.MTPEngine`
protocol.
"""

from interfacial.mtp.cfg import check_training_set, read_cfg, write_cfg
from interfacial.mtp.engine import (
    DEFAULT_CUTOFF,
    DEFAULT_LEVEL,
    DEFAULT_WEIGHTS,
    ENGINES,
    MLPBinaryEngine,
    MotepEngine,
    MTPEngine,
    get_engine,
)
from interfacial.mtp.metrics import errors_on, meets_targets, predict
from interfacial.mtp.potential import MTPPotential

__all__ = [
    "DEFAULT_CUTOFF",
    "DEFAULT_LEVEL",
    "DEFAULT_WEIGHTS",
    "ENGINES",
    "MLPBinaryEngine",
    "MTPEngine",
    "MTPPotential",
    "MotepEngine",
    "check_training_set",
    "errors_on",
    "get_engine",
    "meets_targets",
    "predict",
    "read_cfg",
    "write_cfg",
]
