"""Moment tensor potentials: training sets, fitting engines, errors and parity plots.

The potential format, engine-independent (code-agnostic flows and jobs may import it):
:mod:`~interfacial.mtp.cfg` (MLIP training files), :mod:`~interfacial.mtp.basis` (untrained
potentials of a level), :mod:`~interfacial.mtp.potential` (the fitted potential and its
identity), :mod:`~interfacial.mtp.metrics`, :mod:`~interfacial.mtp.parity`,
:mod:`~interfacial.mtp.defaults` (the study's settings and MLIP's grade thresholds) and
:mod:`~interfacial.mtp.selection` (which graded configurations to label).

The engines (motep, ``mlp``) live in :mod:`~interfacial.mtp.engine` behind the
:class:`~interfacial.mtp.engine.MTPEngine` protocol, with motep's MaxVol grading in
:mod:`~interfacial.mtp.active`; they are reached through :mod:`interfacial.engines` (kind
``fit``), so this package imports none of them.
"""

from interfacial.mtp.cfg import check_training_set, read_cfg, write_cfg
from interfacial.mtp.defaults import DEFAULT_CUTOFF, DEFAULT_LEVEL, DEFAULT_WEIGHTS
from interfacial.mtp.metrics import errors_on, meets_targets, predict
from interfacial.mtp.potential import MTPPotential

__all__ = [
    "DEFAULT_CUTOFF",
    "DEFAULT_LEVEL",
    "DEFAULT_WEIGHTS",
    "MTPPotential",
    "check_training_set",
    "errors_on",
    "meets_targets",
    "predict",
    "read_cfg",
    "write_cfg",
]
