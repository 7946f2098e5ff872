"""VASP as a calculator engine: the study's DFT settings through atomate2's VASP makers."""

from __future__ import annotations

import shlex
import shutil
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from interfacial import engines
from interfacial.errors import InterfacialError
from interfacial.vasp.flows import (
    VaspInterfaceEnergeticsMaker,
    VaspLearnPotentialMaker,
    VaspReferenceMDMaker,
    VaspSurfaceEnergyMaker,
    aimd_run_maker,
    bulk_relax_maker,
    label_static_maker,
    mlp_fit_maker,
    normal_relax_maker,
    slab_relax_maker,
)

if TYPE_CHECKING:
    from interfacial.flows.screening import ScreeningMaker
    from interfacial.flows.surface import SurfaceEnergyMaker
    from interfacial.settings import InterfacialSettings


#: Screening tiers with VASP (InterfaceEnergeticsMaker fields). refine: the study's models
#: (metal slab thickness None = the study's default per metal, Li 12 A and Na 14 A; compound
#: 10 A; four registries; up to 600 atoms). prescreen (a screen run wholly on VASP): thin
#: slabs, one registry, one gap. VASP stops on EDIFFG: no relax_fmax.
SCREEN_TIERS: dict[str, dict[str, Any]] = {
    "prescreen": {
        "metal_thickness": 8.0,
        "compound_thickness": 6.0,
        "registries": [[0.0, 0.0]],
        "gaps": [2.0],
        "max_atoms": 200,
    },
    "refine": {
        "metal_thickness": None,
        "compound_thickness": 10.0,
        "registries": [[0.0, 0.0], [0.5, 0.0], [0.0, 0.5], [0.5, 0.5]],
        "gaps": [2.0],
        "max_atoms": 600,
    },
}


@dataclass(frozen=True)
class VaspEngine:
    """VASP run by atomate2 (custodian) with ``settings.vasp_cmd`` and pymatgen's POTCARs."""

    name: str = "VASP"
    #: A DFT single point of a transport cell (hundreds of atoms) is out of reach: clusters
    #: cut around the selected neighbourhoods are labelled instead.
    labels_whole_cells: bool = False

    def check_available(self) -> None:
        """Nothing to import: atomate2's VASP makers ship with atomate2 itself."""

    def check_can_run_locally(self, settings: InterfacialSettings) -> None:
        """Fail before any job starts if VASP cannot run on this machine.

        VASP needs its command (first and last word of ``vasp_cmd``, e.g. ``srun ...
        vasp_std``) on the PATH and pymatgen's POTCAR directory (``PMG_VASP_PSP_DIR``).
        Submitting to FireWorks does not need either here: the workers check their own
        environment.
        """
        words = shlex.split(settings.vasp_cmd)
        missing = [w for w in {words[0], words[-1]} if shutil.which(w) is None] if words else ["''"]
        if missing:
            raise InterfacialError(
                f"VASP command '{settings.vasp_cmd}' cannot run here ({', '.join(missing)} not "
                "on PATH); set INTERFACIAL_VASP_CMD or vasp_cmd in ~/.interfacial.yaml, or submit "
                "the flow to FireWorks workers that have VASP"
            )
        from pymatgen.core import SETTINGS

        if not SETTINGS.get("PMG_VASP_PSP_DIR"):
            raise InterfacialError(
                "VASP needs POTCARs: set PMG_VASP_PSP_DIR in ~/.config/.pmgrc.yaml "
                "(pmg config --add PMG_VASP_PSP_DIR /path/to/potcars)"
            )

    def surface_energy_maker(
        self, settings: InterfacialSettings, **kwargs: Any
    ) -> VaspSurfaceEnergyMaker:
        """Bulk ISIF 3, slabs ISIF 2, run with ``settings.vasp_cmd``."""
        return VaspSurfaceEnergyMaker(
            bulk_relax_maker=bulk_relax_maker(settings.vasp_cmd),
            slab_relax_maker=slab_relax_maker(settings.vasp_cmd),
            **kwargs,
        )

    def interface_energetics_maker(
        self,
        settings: InterfacialSettings,
        surface_maker: SurfaceEnergyMaker | None = None,
        relax_fmax: float | None = None,
        **kwargs: Any,
    ) -> VaspInterfaceEnergeticsMaker:
        """Models and strained bulks relaxed along the normal (LATTICE_CONSTRAINTS F F T).

        ``relax_fmax`` is a force-field setting: VASP stops on EDIFFG (energy) and ignores it.
        """
        return VaspInterfaceEnergeticsMaker(
            surface_maker=surface_maker or self.surface_energy_maker(settings),
            interface_relax_maker=normal_relax_maker("VASP interface relax", settings.vasp_cmd),
            strained_bulk_relax_maker=normal_relax_maker(
                "VASP strained bulk relax", settings.vasp_cmd
            ),
            **kwargs,
        )

    def tier_maker(
        self,
        settings: InterfacialSettings,
        tier: str,
        surface_maker: SurfaceEnergyMaker | None = None,
        **overrides: Any,
    ) -> VaspInterfaceEnergeticsMaker:
        """A screening tier: :data:`SCREEN_TIERS` updated with ``overrides``.

        ``relax_fmax`` is ignored (VASP stops on EDIFFG).
        """
        if tier not in SCREEN_TIERS:
            raise InterfacialError(f"unknown screening tier {tier!r}; use prescreen or refine")
        options = {**SCREEN_TIERS[tier], **{k: v for k, v in overrides.items() if v is not None}}
        options.pop("relax_fmax", None)
        return self.interface_energetics_maker(settings, surface_maker, **options)

    def screening_maker(
        self, settings: InterfacialSettings, refine_calculator: str | None = None, **options: Any
    ) -> ScreeningMaker:
        """The screening funnel on VASP (see :func:`interfacial.engines.screening_maker`)."""
        return engines.screening_maker(self, settings, refine_calculator, **options)

    def learn_potential_maker(
        self,
        settings: InterfacialSettings,
        reference: dict[str, Any] | None = None,
        fit: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> VaspLearnPotentialMaker:
        """The study's path: VASP AIMD, ``mlp train`` fits, VASP single points as labels.

        ``reference`` holds VaspReferenceMDMaker fields, ``fit`` MLPFitMaker fields;
        ``kwargs`` are LearnPotentialMaker fields.
        """
        return VaspLearnPotentialMaker(
            reference_md_maker=VaspReferenceMDMaker(
                **{"md_maker": aimd_run_maker(settings.vasp_cmd), **(reference or {})}
            ),
            fit_maker=mlp_fit_maker(**(fit or {})),
            label_maker=label_static_maker(settings.vasp_cmd),
            **kwargs,
        )


ENGINE = VaspEngine()
