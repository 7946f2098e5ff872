"""Calculators by name: which engine-specific maker a flow gets.

Lives outside the code-agnostic flows so that they never import an engine module.
"""

from __future__ import annotations

import shlex
import shutil
from typing import Any

from interfacial.errors import InterfacialError
from interfacial.settings import InterfacialSettings, get_settings

#: Names accepted by --calculator (case-insensitive) and what they are.
CALCULATORS = {
    "CHGNet": "universal ML potential, weights ship in the chgnet wheel (embedded default)",
    "VASP": "DFT with VASP as SCIENCE-grade settings (needs vasp_cmd and POTCARs)",
}


def canonical_calculator(name: str) -> str:
    """Return the canonical spelling of a calculator name, or raise a clear error."""
    for known in CALCULATORS:
        if known.lower() == name.strip().lower():
            return known
    raise InterfacialError(f"unknown calculator '{name}'; choose one of: {', '.join(CALCULATORS)}")


def surface_energy_maker(
    calculator: str, settings: InterfacialSettings | None = None, **kwargs: Any
) -> Any:
    """The SurfaceEnergyMaker subclass of ``calculator``, built with ``kwargs``.

    Force-field relaxations use ``settings.relax_fmax`` (eV/A) and ``settings.relax_steps``.
    """
    settings = settings or get_settings()
    name = canonical_calculator(calculator)
    if name == "CHGNet":
        try:
            import chgnet  # noqa: F401
        except ImportError:
            raise InterfacialError(
                "the CHGNet calculator needs the embedded extra: "
                "pip install 'interfacial[embedded]'"
            ) from None
        from interfacial.forcefields.flows import ForceFieldSurfaceEnergyMaker
        from interfacial.forcefields.makers import CHGNetRelaxMaker

        relax: dict[str, Any] = {
            "relax_kwargs": {"fmax": settings.relax_fmax},
            "steps": settings.relax_steps,
        }
        return ForceFieldSurfaceEnergyMaker(
            bulk_relax_maker=CHGNetRelaxMaker(name="CHGNet bulk relax", relax_cell=True, **relax),
            slab_relax_maker=CHGNetRelaxMaker(name="CHGNet slab relax", relax_cell=False, **relax),
            **kwargs,
        )
    from interfacial.vasp.flows import VaspSurfaceEnergyMaker, bulk_relax_maker, slab_relax_maker

    return VaspSurfaceEnergyMaker(
        bulk_relax_maker=bulk_relax_maker(settings.vasp_cmd),
        slab_relax_maker=slab_relax_maker(settings.vasp_cmd),
        **kwargs,
    )


def interface_energetics_maker(
    calculator: str, settings: InterfacialSettings | None = None, **kwargs: Any
) -> Any:
    """The InterfaceEnergeticsMaker subclass of ``calculator``, built with ``kwargs``.

    ``surface_kwargs`` (thicknesses, vacuum, convergence) go to its surface-energy maker;
    ``relax_fmax`` (eV/A) overrides ``settings.relax_fmax`` for the model and strained-bulk
    relaxations of a force field (the surfaces keep the setting).
    """
    settings = settings or get_settings()
    surface_maker = surface_energy_maker(calculator, settings, **kwargs.pop("surface_kwargs", {}))
    fmax = kwargs.pop("relax_fmax", None) or settings.relax_fmax
    if canonical_calculator(calculator) == "CHGNet":
        from interfacial.flows.interface import FREE_C_MASK
        from interfacial.forcefields.flows import (
            ForceFieldInterfaceEnergeticsMaker,
            normal_relax_maker,
        )

        relax: dict[str, Any] = {"relax_kwargs": {"fmax": fmax}, "steps": settings.relax_steps}
        return ForceFieldInterfaceEnergeticsMaker(
            surface_maker=surface_maker,
            interface_relax_maker=normal_relax_maker("CHGNet interface relax", **relax),
            strained_bulk_relax_maker=normal_relax_maker(
                "CHGNet strained bulk relax", FREE_C_MASK, **relax
            ),
            **kwargs,
        )
    from interfacial.vasp.flows import VaspInterfaceEnergeticsMaker
    from interfacial.vasp.flows import normal_relax_maker as vasp_normal_relax_maker

    return VaspInterfaceEnergeticsMaker(
        surface_maker=surface_maker,
        interface_relax_maker=vasp_normal_relax_maker("VASP interface relax", settings.vasp_cmd),
        strained_bulk_relax_maker=vasp_normal_relax_maker(
            "VASP strained bulk relax", settings.vasp_cmd
        ),
        **kwargs,
    )


def check_can_run_locally(calculator: str, settings: InterfacialSettings | None = None) -> None:
    """Fail before any job starts if ``calculator`` cannot run on this machine.

    VASP needs its command (first and last word of ``vasp_cmd``, e.g. ``srun ... vasp_std``) on
    the PATH and pymatgen's POTCAR directory (``PMG_VASP_PSP_DIR``). Submitting to FireWorks does
    not need either here: the workers check their own environment.
    """
    settings = settings or get_settings()
    if canonical_calculator(calculator) != "VASP":
        return
    words = shlex.split(settings.vasp_cmd)
    missing = [w for w in {words[0], words[-1]} if shutil.which(w) is None] if words else ["''"]
    if missing:
        raise InterfacialError(
            f"VASP command '{settings.vasp_cmd}' cannot run here ({', '.join(missing)} not on "
            "PATH); set INTERFACIAL_VASP_CMD or vasp_cmd in ~/.interfacial.yaml, or submit the "
            "flow to FireWorks workers that have VASP"
        )
    from pymatgen.core import SETTINGS

    if not SETTINGS.get("PMG_VASP_PSP_DIR"):
        raise InterfacialError(
            "VASP needs POTCARs: set PMG_VASP_PSP_DIR in ~/.config/.pmgrc.yaml "
            "(pmg config --add PMG_VASP_PSP_DIR /path/to/potcars)"
        )
