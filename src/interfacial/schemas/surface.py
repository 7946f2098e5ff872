"""Documents of the surface-energy flow and builder."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, Field

from interfacial.analysis.surface import converged_index, surface_energy, wulff_summary
from interfacial.schemas.roles import SlabKeys

if TYPE_CHECKING:
    from pymatgen.core import Lattice


def utcnow() -> datetime:
    """Timezone-aware now, for ``last_updated`` fields."""
    return datetime.now(UTC)


class TerminationInfo(BaseModel):
    """One stoichiometric termination of a facet."""

    label: str = Field(description="Termination label: t<i>-<formula of the top atomic plane>")
    shift: float = Field(description="pymatgen SlabGenerator shift (fractional, along c)")
    symmetric: bool = Field(description="Both faces related by a symmetry operation")
    n_atoms_per_repeat: int


class FacetInfo(BaseModel):
    """A facet with its Tasker type and terminations."""

    miller_index: list[int]
    tasker_type: int = Field(description="1 or 2: symmetric slabs exist; 3: polar, none exist")
    repeat_height: float = Field(description="Height of one oriented-cell repeat (A)")
    n_repeats_start: int = Field(description="Repeats of the thinnest slab computed")
    terminations: list[TerminationInfo] = Field(default_factory=list)
    reason: str | None = Field(None, description="Why the facet has no usable slab")


class FacetReport(BaseModel):
    """Output of the slab enumeration job: every facet, usable or not."""

    material: str
    formula: str
    bulk_uuid: str
    calculator: str
    max_index: int | None
    facets: list[FacetInfo]
    last_updated: datetime = Field(default_factory=utcnow)


class ThicknessPoint(BaseModel):
    """gamma of one slab thickness."""

    n_repeats: int
    n_atoms: int
    slab_thickness: float = Field(description="Bulk-equivalent thickness (A)")
    energy: float = Field(description="Relaxed slab energy (eV)")
    surface_energy: float = Field(description="gamma (J/m^2)")
    slab_uuid: str

    @classmethod
    def from_slab(
        cls,
        slab_energy: float,
        slab_uuid: str,
        slab_keys: SlabKeys,
        bulk_energy_per_atom: float,
    ) -> ThicknessPoint:
        """Gamma of one relaxed slab, from its energy and the grouping keys of its job."""
        return cls(
            n_repeats=slab_keys.n_repeats,
            n_atoms=slab_keys.n_atoms,
            slab_thickness=slab_keys.slab_thickness,
            energy=slab_energy,
            surface_energy=surface_energy(
                slab_energy, slab_keys.n_atoms, bulk_energy_per_atom, slab_keys.area
            ),
            slab_uuid=slab_uuid,
        )


class SurfaceEnergyDocument(BaseModel):
    """One termination of one facet: gamma converged with thickness (or why there is none)."""

    surface_id: str = Field(description="<bulk_uuid>/<h,k,l>/<termination>")
    material: str
    formula: str
    miller_index: list[int]
    termination: str | None = None
    shift: float | None = None
    tasker_type: int
    surface_energy: float | None = Field(None, description="gamma (J/m^2); null without a slab")
    reason: str | None = None
    converged: bool | None = Field(None, description="|d gamma| < tol between the last thicknesses")
    convergence_tol: float | None = Field(None, description="J/m^2")
    n_atoms: int | None = None
    slab_thickness: float | None = Field(None, description="Bulk-equivalent thickness (A)")
    vacuum: float | None = Field(None, description="Vacuum requested (A)")
    area: float | None = Field(None, description="Area of one face S (A^2)")
    bulk_energy_per_atom: float | None = Field(None, description="eV/atom")
    thickness_series: list[ThicknessPoint] = Field(default_factory=list)
    calculator: str
    bulk_uuid: str
    slab_uuid: str | None = None
    source_fingerprint: str | None = Field(
        None, description="Hash of the source documents this was built from (builders only)"
    )
    last_updated: datetime = Field(default_factory=utcnow)

    @staticmethod
    def make_id(bulk_uuid: str, miller_index: list[int], termination: str | None) -> str:
        """The document key: <bulk_uuid>/<h,k,l>/<termination or 'none'>."""
        return f"{bulk_uuid}/{','.join(map(str, miller_index))}/{termination or 'none'}"

    @classmethod
    def from_series(
        cls,
        series: list[ThicknessPoint],
        slab_keys: SlabKeys,
        bulk_energy_per_atom: float,
        source_fingerprint: str | None = None,
    ) -> SurfaceEnergyDocument:
        """Pick gamma from slabs of increasing thickness (the study's convergence rule).

        gamma is that of the first thickness whose gamma differs from the previous one by less
        than ``slab_keys.convergence_tol`` (J/m^2); without convergence it is the thickest
        slab's, flagged ``converged=False``. ``slab_keys`` are the slab relax job's grouping keys.
        """
        convergence_tol = slab_keys.convergence_tol
        series = sorted(series, key=lambda p: p.n_repeats)
        index = converged_index([p.surface_energy for p in series], convergence_tol)
        chosen = series[-1] if index is None else series[index]
        miller = list(slab_keys.miller_index)
        return cls(
            surface_id=cls.make_id(slab_keys.bulk_uuid, miller, slab_keys.termination),
            material=slab_keys.material,
            formula=slab_keys.formula,
            miller_index=miller,
            termination=slab_keys.termination,
            shift=slab_keys.shift,
            tasker_type=slab_keys.tasker_type,
            surface_energy=chosen.surface_energy,
            converged=index is not None,
            convergence_tol=convergence_tol,
            n_atoms=chosen.n_atoms,
            slab_thickness=chosen.slab_thickness,
            vacuum=slab_keys.vacuum,
            area=slab_keys.area,
            bulk_energy_per_atom=bulk_energy_per_atom,
            thickness_series=series,
            calculator=slab_keys.calculator,
            bulk_uuid=slab_keys.bulk_uuid,
            slab_uuid=chosen.slab_uuid,
            source_fingerprint=source_fingerprint,
        )

    @classmethod
    def without_slab(
        cls, report: FacetReport, facet: FacetInfo, source_fingerprint: str | None = None
    ) -> SurfaceEnergyDocument:
        """A facet with no stoichiometric symmetric slab: gamma is null, with the reason."""
        return cls(
            surface_id=cls.make_id(report.bulk_uuid, facet.miller_index, None),
            material=report.material,
            formula=report.formula,
            miller_index=facet.miller_index,
            tasker_type=facet.tasker_type,
            reason=facet.reason,
            calculator=report.calculator,
            bulk_uuid=report.bulk_uuid,
            source_fingerprint=source_fingerprint,
        )


class WulffFacet(BaseModel):
    """A facet on the Wulff shape: its lowest-energy termination and area fraction."""

    miller_index: list[int]
    termination: str
    surface_energy: float = Field(description="J/m^2")
    area_fraction: float | None = Field(None, description="null when the facets enclose no shape")


class TerminationEnergy(BaseModel):
    """gamma of one computed termination (the interface flow picks the one in its model)."""

    miller_index: list[int]
    termination: str
    surface_energy: float = Field(description="J/m^2")
    surface_id: str


class MissingFacet(BaseModel):
    """A facet with no usable slab, and why."""

    miller_index: list[int]
    reason: str


class SurfaceMaterialDocument(BaseModel):
    """One material: Wulff shape from the lowest gamma per facet."""

    bulk_uuid: str
    material: str
    formula: str
    calculator: str
    lattice: list[list[float]] = Field(description="Relaxed conventional lattice (A)")
    facets: list[WulffFacet]
    missing_facets: list[MissingFacet] = Field(default_factory=list)
    terminations: list[TerminationEnergy] = Field(
        default_factory=list, description="gamma of every computed termination of every facet"
    )
    weighted_surface_energy: float | None = Field(
        None, description="sum_f area_fraction_f gamma_f (J/m^2); null without a closed shape"
    )
    lowest_facet: list[int]
    shape_factor: float | None = None
    anisotropy: float | None = None
    wulff_note: str | None = Field(
        None, description="Why there is no Wulff shape, if there is none"
    )
    all_converged: bool
    source_fingerprint: str | None = Field(
        None, description="Hash of the source documents this was built from (builders only)"
    )
    last_updated: datetime = Field(default_factory=utcnow)

    @classmethod
    def from_surfaces(
        cls,
        lattice: Lattice,
        report: FacetReport,
        surfaces: list[SurfaceEnergyDocument],
        source_fingerprint: str | None = None,
    ) -> SurfaceMaterialDocument | None:
        """Wulff shape from the lowest-gamma termination of each facet (None without any gamma)."""
        lowest: dict[tuple[int, ...], SurfaceEnergyDocument] = {}
        for doc in surfaces:
            if doc is None or doc.surface_energy is None:
                continue
            key = tuple(doc.miller_index)
            best = lowest.get(key)
            if best is None or doc.surface_energy < best.surface_energy:  # type: ignore[operator]
                lowest[key] = doc
        if not lowest:
            return None
        millers = [list(k) for k in lowest]
        gammas = [float(d.surface_energy) for d in lowest.values()]  # type: ignore[arg-type]
        try:
            wulff: dict[str, Any] = wulff_summary(lattice, millers, gammas)
            note = None
        except ValueError as error:
            wulff = {"area_fractions": [None] * len(millers)}
            note = str(error)
        facets = [
            WulffFacet(
                miller_index=m,
                termination=d.termination or "",
                surface_energy=g,
                area_fraction=f,
            )
            for m, d, g, f in zip(
                millers, lowest.values(), gammas, wulff["area_fractions"], strict=True
            )
        ]
        return cls(
            bulk_uuid=report.bulk_uuid,
            material=report.material,
            formula=report.formula,
            calculator=report.calculator,
            lattice=lattice.matrix.tolist(),
            facets=facets,
            missing_facets=[
                MissingFacet(
                    miller_index=f.miller_index,
                    reason=f.reason or "no slab calculation finished for this facet",
                )
                for f in report.facets
                if tuple(f.miller_index) not in lowest
            ],
            terminations=[
                TerminationEnergy(
                    miller_index=d.miller_index,
                    termination=d.termination or "",
                    surface_energy=d.surface_energy,
                    surface_id=d.surface_id,
                )
                for d in surfaces
                if d is not None and d.surface_energy is not None
            ],
            weighted_surface_energy=wulff.get("weighted_surface_energy"),
            lowest_facet=min(facets, key=lambda f: f.surface_energy).miller_index,
            shape_factor=wulff.get("shape_factor"),
            anisotropy=wulff.get("anisotropy"),
            wulff_note=note,
            all_converged=all(bool(d.converged) for d in lowest.values()),
            source_fingerprint=source_fingerprint,
        )
