"""SevenNet, a second embedded universal potential: its weights ship in the sevenn wheel.

SevenNet-0 (``model="7net-0"``, the 11 Jul 2024 checkpoint: an equivariant NequIP-type network,
trained on MPtrj like CHGNet, so PBE/PBE+U-level energies) is the default model. The wheel
(``sevenn`` 0.13.0) also ships SevenNet-0 of 22 May 2024 (``"7net-0_22May2024"``),
SevenNet-l3i5 (``"7net-l3i5"``: l_max 3, 5 layers, same training set, about 3x slower on CPU) and
SevenNet-MF-0 (``"7net-mf-0"``, multi-fidelity: needs ``modal``). All four load from
``sevenn/pretrained_potentials/`` inside the installed package: nothing is downloaded (checked
with no network namespace at all). The other names sevenn knows (``7net-omat``,
``7net-mf-ompa``, ``7net-omni``...) are NOT in the wheel and would be fetched from GitHub
releases at first use, which fails here: do not register them without shipping the checkpoint.

atomate2 (0.1.5) knows the force field as ``MLFF.SevenNet`` ("SevenNet"); its
``ase_calculator`` builds ``sevenn.sevennet_calculator.SevenNetCalculator(**calculator_kwargs)``
(a deprecated alias of ``sevenn.calculator.SevenNetCalculator``: one DeprecationWarning at
import) and its default keyword arguments are already ``{"model": "7net-0"}``. The model is
stated here anyway so that the cached calculator's key, and the provenance of every document,
name it. ``device`` is left at sevenn's default ``"auto"`` (CUDA when present, else CPU).

Stress comes back in eV/A^3 (ASE convention), so unlike CHGNet no ``stress_unit`` is needed.
"""

from __future__ import annotations

from interfacial.forcefields.engine import ForceFieldEngine

ENGINE = ForceFieldEngine(
    name="SevenNet",
    force_field_name="SevenNet",
    package="sevenn",
    calculator_kwargs={"model": "7net-0"},
)
