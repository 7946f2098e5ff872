"""The study's MTP settings and MLIP's extrapolation thresholds (engine-independent).

Code-agnostic flows and jobs take their defaults from here; the engines
(:mod:`interfacial.mtp.engine`) use the same values.
"""

from __future__ import annotations

DEFAULT_LEVEL = 10
"""The study's level (lev_max)."""
DEFAULT_CUTOFF = 5.0
"""The study's cutoff (A)."""
DEFAULT_WEIGHTS = (100.0, 10.0, 1.0)
"""The study's energy : force : stress weights, 100 : 10 : 1 (``mlp train``'s own defaults are
1 : 0.01 : 0.001). Passed to the engine unchanged and recorded with the potential as given."""

SELECT_THRESHOLD = 2.0
"""MaxVol grade above which a configuration is worth labelling (MLIP's usual value)."""
BREAK_THRESHOLD = 10.0
"""MaxVol grade above which MD with the potential is unreliable (MLIP's usual value)."""
