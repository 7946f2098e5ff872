"""CHGNet, the embedded default calculator: its weights ship in the chgnet wheel (no download)."""

from __future__ import annotations

from interfacial.forcefields.engine import ForceFieldEngine

ENGINE = ForceFieldEngine(name="CHGNet", force_field_name="CHGNet", package="chgnet")
