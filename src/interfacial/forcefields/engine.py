"""A universal ML force field as a calculator engine: any ASE force field that atomate2 knows.

atomate2's ``ForceFieldRelaxMaker`` and ``ForceFieldStaticMaker`` build an ASE calculator from a
force-field name (``atomate2.forcefields.MLFF``: "CHGNet", "MACE", "SevenNet", ...) and keyword
arguments. A :class:`ForceFieldEngine` holds that name and those arguments and builds every maker
the code-agnostic flows nest: cached relaxations (surfaces, interfaces), single points (labels of
active learning) and the in-process reference MD. Adding a universal potential is one module
defining ``ENGINE = ForceFieldEngine(...)`` (see :mod:`interfacial.forcefields.chgnet`) and one
:class:`~interfacial.engines.EngineSpec` in :data:`interfacial.engines.BUILTIN_ENGINES`.
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar

from interfacial import engines
from interfacial.errors import InterfacialError
from interfacial.flows.interface import FREE_C_MASK, NORMAL_ONLY_MASK
from interfacial.forcefields.makers import CachedForceFieldRelaxMaker, CachedForceFieldStaticMaker

if TYPE_CHECKING:
    from interfacial.flows.screening import ScreeningMaker
    from interfacial.flows.surface import SurfaceEnergyMaker
    from interfacial.forcefields.flows import (
        ForceFieldInterfaceEnergeticsMaker,
        ForceFieldLearnPotentialMaker,
        ForceFieldSurfaceEnergyMaker,
    )
    from interfacial.forcefields.md import ForceFieldMDRunMaker
    from interfacial.settings import InterfacialSettings


#: Embedded screening tiers (InterfaceEnergeticsMaker fields and relax_fmax in eV/A), cut so
#: that ``interfacial screen Li6PS5Cl --metal Li`` runs in under 45 minutes on 2 cores.
#: prescreen: thin slabs, one registry (the inversion-centre one, which keeps the metal
#: perfect), one gap, 0.1 eV/A; refine: the demo's interfaces (8/6 A) with the four
#: registries and one gap, 0.05 eV/A. The study (12/10 A, 0.02 eV/A or VASP) is the
#: ``refine`` override or the VASP refine tier.
SCREEN_TIERS: dict[str, dict[str, Any]] = {
    "prescreen": {
        "metal_thickness": 6.0,
        "compound_thickness": 5.0,
        "registries": [[0.0, 0.0]],
        "gaps": [2.0],
        "max_atoms": 90,
        "relax_fmax": 0.1,
    },
    "refine": {
        "metal_thickness": 8.0,
        "compound_thickness": 6.0,
        "registries": [[0.0, 0.0], [0.5, 0.0], [0.0, 0.5], [0.5, 0.5]],
        "gaps": [2.0],
        "max_atoms": 160,
        "relax_fmax": 0.05,
    },
}


#: What a relaxation keeps of each optimiser step: its energy only. atomate2 keeps the structure,
#: forces, stress and magmoms of every step by default (1-1.75 MB for a 50-step relaxation of a
#: 90-atom interface model), and jobflow loads and decodes all of it each time a later job reads
#: any field of that output (``load=True``): 1.0-1.4 s per reference against 0.04 s for the
#: document alone, measured on the demo database. Nothing downstream reads the intermediate
#: steps; the final structure, energy, forces and stress stay in the output.
RELAX_IONIC_STEP_DATA: tuple[str, ...] = ("energy",)


@dataclass(frozen=True)
class ForceFieldEngine:
    """A force field run through ASE in this process (the embedded path: no DFT, no binary).

    Attributes
    ----------
    name : str
        Registered name: the calculator label stored in every document and the prefix of the
        job names ("CHGNet bulk relax").
    force_field_name : str
        atomate2's name of the force field (``atomate2.forcefields.MLFF``), e.g. "CHGNet".
    package : str
        Python package that provides the calculator, imported to check that it is installed.
    calculator_kwargs : Mapping
        Keyword arguments of the ASE calculator (e.g. which model of the package), on top of
        atomate2's defaults for ``force_field_name``.

    """

    name: str
    force_field_name: str
    package: str
    calculator_kwargs: Mapping[str, Any] = field(default_factory=dict)
    #: A single point of a 100-atom cell takes ~0.4 s: transport frames are labelled whole.
    labels_whole_cells: ClassVar[bool] = True

    def check_available(self) -> None:
        """Raise InterfacialError naming the extra to install when the package is missing."""
        try:
            importlib.import_module(self.package)
        except ImportError as err:
            raise InterfacialError(
                f"the {self.name} calculator needs the Python package {self.package} ({err}); "
                f"{engines.install_hint('calculator', self.name)}"
            ) from None

    def check_can_run_locally(self, settings: InterfacialSettings) -> None:
        """Nothing to check: the force field runs in this process once its package imports."""

    def _calculator(self) -> dict[str, Any]:
        return {
            "force_field_name": self.force_field_name,
            "calculator_kwargs": dict(self.calculator_kwargs),
        }

    def relax_maker(
        self,
        label: str,
        *,
        relax_cell: bool = True,
        mask: list[int] | None = None,
        fmax: float = 0.02,
        steps: int = 500,
    ) -> CachedForceFieldRelaxMaker:
        """A relaxation named '<name> <label>' (e.g. 'CHGNet slab relax').

        Parameters
        ----------
        label : str
            What is relaxed, for the job name.
        relax_cell : bool
            Relax the cell as well as the positions.
        mask : list of int, optional
            Voigt mask (xx, yy, zz, yz, xz, xy) of the cell components that relax (implies
            ``relax_cell``), e.g. :data:`~interfacial.flows.interface.NORMAL_ONLY_MASK`.
        fmax : float
            Stop when max |F| < fmax (eV/A).
        steps : int
            Optimiser steps at most.

        """
        relax_kwargs: dict[str, Any] = {"fmax": fmax}
        if mask is not None:
            relax_cell = True
            relax_kwargs["filter_kwargs"] = {"mask": list(mask)}
        return CachedForceFieldRelaxMaker(
            name=f"{self.name} {label}",
            relax_cell=relax_cell,
            steps=steps,
            relax_kwargs=relax_kwargs,
            ionic_step_data=RELAX_IONIC_STEP_DATA,
            **self._calculator(),
        )

    def static_maker(self) -> CachedForceFieldStaticMaker:
        """A single point named '<name> static': the labels of active learning."""
        return CachedForceFieldStaticMaker(name=f"{self.name} static", **self._calculator())

    def md_run_maker(self, tdamp: float | None = None) -> ForceFieldMDRunMaker:
        """One reference MD run in one job, named '<name> reference MD'.

        Parameters
        ----------
        tdamp : float, optional
            Nose-Hoover time constant (fs); default 100 time steps.

        """
        from interfacial.forcefields.md import ForceFieldMDRunMaker

        return ForceFieldMDRunMaker(
            name=f"{self.name} reference MD", tdamp=tdamp, **self._calculator()
        )

    def surface_energy_maker(
        self, settings: InterfacialSettings, **kwargs: Any
    ) -> ForceFieldSurfaceEnergyMaker:
        """Bulk relaxed with its cell, slabs at fixed cell, to ``settings.relax_fmax`` (eV/A)."""
        from interfacial.forcefields.flows import ForceFieldSurfaceEnergyMaker

        relax: dict[str, Any] = {"fmax": settings.relax_fmax, "steps": settings.relax_steps}
        return ForceFieldSurfaceEnergyMaker(
            calculator=self.name,
            bulk_relax_maker=self.relax_maker("bulk relax", relax_cell=True, **relax),
            slab_relax_maker=self.relax_maker("slab relax", relax_cell=False, **relax),
            **kwargs,
        )

    def interface_energetics_maker(
        self,
        settings: InterfacialSettings,
        surface_maker: SurfaceEnergyMaker | None = None,
        relax_fmax: float | None = None,
        **kwargs: Any,
    ) -> ForceFieldInterfaceEnergeticsMaker:
        """Models relaxed along the normal only, strained bulks with the whole of c free.

        ``relax_fmax`` (eV/A) overrides ``settings.relax_fmax`` for the models and strained
        bulks (the surfaces keep the setting); ``surface_maker`` defaults to
        :meth:`surface_energy_maker`.
        """
        from interfacial.forcefields.flows import ForceFieldInterfaceEnergeticsMaker

        relax: dict[str, Any] = {
            "fmax": relax_fmax or settings.relax_fmax,
            "steps": settings.relax_steps,
        }
        return ForceFieldInterfaceEnergeticsMaker(
            calculator=self.name,
            surface_maker=surface_maker or self.surface_energy_maker(settings),
            interface_relax_maker=self.relax_maker(
                "interface relax", mask=NORMAL_ONLY_MASK, **relax
            ),
            strained_bulk_relax_maker=self.relax_maker(
                "strained bulk relax", mask=FREE_C_MASK, **relax
            ),
            **kwargs,
        )

    def tier_maker(
        self,
        settings: InterfacialSettings,
        tier: str,
        surface_maker: SurfaceEnergyMaker | None = None,
        **overrides: Any,
    ) -> ForceFieldInterfaceEnergeticsMaker:
        """A screening tier: :data:`SCREEN_TIERS` updated with ``overrides``."""
        if tier not in SCREEN_TIERS:
            raise InterfacialError(f"unknown screening tier {tier!r}; use prescreen or refine")
        options = {**SCREEN_TIERS[tier], **{k: v for k, v in overrides.items() if v is not None}}
        fmax = options.pop("relax_fmax")
        return self.interface_energetics_maker(settings, surface_maker, relax_fmax=fmax, **options)

    def screening_maker(
        self, settings: InterfacialSettings, refine_calculator: str | None = None, **options: Any
    ) -> ScreeningMaker:
        """The screening funnel on this force field (see :func:`engines.screening_maker`)."""
        return engines.screening_maker(self, settings, refine_calculator, **options)

    def learn_potential_maker(
        self,
        settings: InterfacialSettings,
        reference: dict[str, Any] | None = None,
        fit: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> ForceFieldLearnPotentialMaker:
        """Reference MD and labels with this force field in this process, motep fits.

        ``reference`` holds ForceFieldReferenceMDMaker fields, ``fit`` MotepFitMaker fields;
        ``kwargs`` are LearnPotentialMaker fields.
        """
        from interfacial.flows.mtp import MotepFitMaker
        from interfacial.forcefields.flows import ForceFieldLearnPotentialMaker
        from interfacial.forcefields.md import ForceFieldReferenceMDMaker

        return ForceFieldLearnPotentialMaker(
            reference_md_maker=ForceFieldReferenceMDMaker(
                **{"calculator": self.name, "md_maker": self.md_run_maker(), **(reference or {})}
            ),
            fit_maker=MotepFitMaker(**(fit or {})),
            label_maker=self.static_maker(),
            **kwargs,
        )
