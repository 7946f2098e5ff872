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

DEFAULT_MARGIN = 2.0
"""Radius (A) beyond the cutoff of the neighbourhoods cut for labelling. MLIP's default sphere
is 7 A for its 5 A cutoff. The central atom's force depends on its neighbours' site energies,
hence on atoms up to twice the cutoff; 2 A covers its first shells at ~2.7x the atoms."""
DEFAULT_VACUUM = 8.0
"""Vacuum (A) between a cut neighbourhood and its periodic images: more than the MTP cutoff
(5 A) and CHGNet's graph cutoff (6 A), so no atom of the cluster sees an image of another."""
