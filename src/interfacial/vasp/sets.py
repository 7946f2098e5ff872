"""VASP input sets of the study (PBE, PAW), as atomate2 input generators.

Relaxations follow pymatgen's MITRelaxSet with the study's overrides: ENCUT 520 eV, EDIFF 1e-5 eV,
an energy-based ionic stop EDIFFG = +1e-4 eV (the run stops when the total energy changes by less
than that between ionic steps) and a k-point density of 25 per A^-3 of reciprocal cell. POTCARs are
the study's valence configurations: Li s1p0, Na s1p0, N s2p3, O s2p4, P s2p3, S s2p4, Cl s2p5.

Slabs keep the in-plane k-point spacing of the bulk density and one k-point along the normal (the
vacuum makes the Brillouin zone flat along it); an optional dipole correction along the normal
(LDIPOL, IDIPOL = 3, centred on the slab's centre of mass) is available for slabs whose two faces
differ, which the symmetric slabs of this project do not need by default.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
from atomate2.vasp.sets.base import VaspInputGenerator
from atomate2.vasp.sets.core import MDSetGenerator
from pymatgen.io.vasp.inputs import Kpoints
from pymatgen.io.vasp.sets import MITRelaxSet

if TYPE_CHECKING:
    from pymatgen.core import Structure

#: POTCAR symbol per element (valence configurations of the study).
STUDY_POTCARS = {"Li": "Li", "Na": "Na", "N": "N", "O": "O", "P": "P", "S": "S", "Cl": "Cl"}
#: Valence electrons of those POTCARs (ZVAL), so that NELECT of a charged cell can be written
#: without the POTCAR files at hand (pymatgen would read them).
STUDY_ZVAL = {"Li": 1, "Na": 1, "N": 5, "O": 6, "P": 5, "S": 6, "Cl": 7}
#: Plane-wave cutoff of the reference MD (eV); labels added by active learning must use the same.
STUDY_AIMD_ENCUT = 400
#: k-point density of the study, per A^-3 of reciprocal cell (pymatgen's reciprocal_density).
STUDY_RECIPROCAL_DENSITY = 25

#: INCAR of every relaxation. ICHARG 2 because MITRelaxSet's ICHARG 1 expects a CHGCAR that a fresh
#: job does not have. Gaussian smearing with a small width suits the metals and the
#: insulating compounds alike (MITRelaxSet's tetrahedron method is unsafe for metals and for
#: relaxations); LCHARG/LWAVE off keep high-throughput folders small.
STUDY_RELAX_INCAR: dict[str, Any] = {
    "ENCUT": 520,
    "EDIFF": 1e-5,
    "EDIFFG": 1e-4,
    "ICHARG": 2,
    "PREC": "Accurate",
    "ISMEAR": 0,
    "SIGMA": 0.05,
    "IBRION": 2,
    "NSW": 200,
    "ISPIN": 1,
    "LCHARG": False,
    "LWAVE": False,
    "LASPH": True,
}


def _study_config() -> dict:
    """MITRelaxSet's configuration with the study's k-point density.

    MITRelaxSet's POTCAR choices (with their hashes) already are the study's; checked here so
    that a change upstream cannot silently change the valence configurations.
    """
    config = dict(MITRelaxSet()._config_dict)
    for element, symbol in STUDY_POTCARS.items():
        entry = config["POTCAR"][element]
        chosen = entry["symbol"] if isinstance(entry, dict) else entry
        if chosen != symbol:
            raise RuntimeError(f"MITRelaxSet now uses POTCAR {chosen} for {element}, not {symbol}")
    config["KPOINTS"] = {"reciprocal_density": STUDY_RECIPROCAL_DENSITY}
    return config


def inplane_kpoint_divisions(structure: Structure, density: float) -> tuple[int, int]:
    """In-plane k-point divisions of a slab that match a bulk density (k-points per A^-3).

    A density rho per A^-3 of reciprocal cell spaces k-points by (2 pi)^3 / rho per point, i.e.
    ``2 pi rho^(1/3) / L`` divisions along a real-space axis of length L (A) for an orthogonal
    cell (pymatgen's ``automatic_density_by_vol`` uses the same rule). Applied to a and b only.
    """
    reach = 2 * math.pi * density ** (1 / 3)
    a, b, _ = structure.lattice.abc
    return max(1, math.floor(reach / a)), max(1, math.floor(reach / b))


def centre_of_mass_fractional(structure: Structure) -> np.ndarray:
    """Mass-weighted mean of the Cartesian positions, in fractional coordinates.

    Positions are taken as they are (no unwrapping): right for a slab centred in its cell.
    """
    masses = np.array([site.specie.atomic_mass for site in structure])
    centre = masses @ structure.cart_coords / masses.sum()
    return structure.lattice.get_fractional_coords(centre)


@dataclass
class StudyBulkRelaxSetGenerator(VaspInputGenerator):
    """Bulk relaxation: cell shape, volume and positions (ISIF 3)."""

    config_dict: dict = field(default_factory=_study_config)
    auto_ismear: bool = False
    auto_metal_kpoints: bool = False

    @property
    def incar_updates(self) -> dict:
        """Study INCAR with ISIF 3."""
        return {**STUDY_RELAX_INCAR, "ISIF": 3}


@dataclass
class StudySlabRelaxSetGenerator(VaspInputGenerator):
    """Slab relaxation at fixed cell (ISIF 2), one k-point along the normal, optional dipole fix.

    Parameters
    ----------
    dipole_correction : bool
        Add LDIPOL = True, IDIPOL = 3 and DIPOL at the slab's centre of mass (fractional).

    """

    config_dict: dict = field(default_factory=_study_config)
    auto_ismear: bool = False
    auto_metal_kpoints: bool = False
    dipole_correction: bool = False

    @property
    def incar_updates(self) -> dict:
        """Study INCAR with ISIF 2, real-space projection for large cells, and the dipole fix."""
        updates: dict[str, Any] = {**STUDY_RELAX_INCAR, "ISIF": 2, "LREAL": "Auto"}
        if self.dipole_correction and self.structure is not None:
            centre = [round(float(x), 6) for x in centre_of_mass_fractional(self.structure)]
            updates |= {"LDIPOL": True, "IDIPOL": 3, "DIPOL": centre}
        return updates

    @property
    def kpoints_updates(self) -> Kpoints:  # type: ignore[override]
        """Gamma-centred mesh: the bulk density in-plane, one division along the normal."""
        if self.structure is None:
            raise ValueError("the slab k-point mesh needs the structure")
        na, nb = inplane_kpoint_divisions(self.structure, STUDY_RECIPROCAL_DENSITY)
        return Kpoints.gamma_automatic((na, nb, 1))


@dataclass
class StudyNormalRelaxSetGenerator(StudyBulkRelaxSetGenerator):
    """Positions and the cell length along the normal only (interface models, strained bulks).

    ISIF 3 with LATTICE_CONSTRAINTS = F F T (VASP >= 6.4) keeps a and b fixed: the in-plane
    lattice is the interface's. The cell is periodic along the normal (no vacuum), so the k-point
    density applies along all three axes. LREAL = Auto for models of a few hundred atoms.
    """

    @property
    def incar_updates(self) -> dict:
        """Study INCAR with ISIF 3 and only c free."""
        return {
            **STUDY_RELAX_INCAR,
            "ISIF": 3,
            "LATTICE_CONSTRAINTS": [False, False, True],
            "LREAL": "Auto",
        }


def nelect_update(structure: Structure | None) -> dict[str, Any]:
    """NELECT = sum of the study POTCARs' ZVAL - charge, for a charged cell ({} if neutral).

    VASP compensates the net charge with a uniform background.
    """
    if structure is None or not structure.charge:
        return {}
    symbols = [site.specie.symbol for site in structure]
    missing = set(symbols) - set(STUDY_ZVAL)
    if missing:
        raise ValueError(f"no study POTCAR valence for {sorted(missing)}: set NELECT")
    electrons: int = sum(STUDY_ZVAL[symbol] for symbol in symbols)
    return {"NELECT": electrons - structure.charge}


@dataclass
class StudyAIMDSetGenerator(MDSetGenerator):
    """Reference ("AIMD") molecular dynamics as the study ran it.

    NVT with a Nose-Hoover thermostat (MDALGO 2), 2 fs steps, ENCUT 400 eV, the Gamma point
    only. A cell with ion vacancies carries a charge (``structure.charge``, e.g. -1 per Li+
    removed): NELECT = sum of ZVAL - charge, and VASP compensates with a uniform background.
    """

    config_dict: dict = field(default_factory=_study_config)
    ensemble: str = "nvt"
    time_step: float = 2.0
    auto_ismear: bool = False
    auto_ispin: bool = False
    auto_metal_kpoints: bool = False

    @property
    def incar_updates(self) -> dict:
        """atomate2's NVT defaults with the study's cutoff and smearing; NELECT if charged."""
        updates = {
            **super().incar_updates,
            "ENCUT": STUDY_AIMD_ENCUT,
            "ICHARG": 2,
            "ISMEAR": 0,
            "SIGMA": 0.05,
            "ISPIN": 1,
            "LWAVE": False,
        }
        return updates | nelect_update(self.structure)

    @property
    def kpoints_updates(self) -> Kpoints:  # type: ignore[override]
        """The Gamma point only."""
        return Kpoints.gamma_automatic((1, 1, 1))


@dataclass
class StudyLabelStaticSetGenerator(StudyBulkRelaxSetGenerator):
    """Single point labelling a configuration for a potential.

    The electronic settings of the reference MD (ENCUT 400 eV, Gamma only, NELECT of a charged
    cell), so that labels added by active learning are consistent with the training data.
    """

    @property
    def incar_updates(self) -> dict:
        """A static run with the AIMD's cutoff and smearing."""
        updates: dict[str, Any] = {
            **STUDY_RELAX_INCAR,
            "ENCUT": STUDY_AIMD_ENCUT,
            "IBRION": -1,
            "NSW": 0,
            "ISIF": 2,
            "ISYM": 0,
            "EDIFFG": None,
        }
        return updates | nelect_update(self.structure)

    @property
    def kpoints_updates(self) -> Kpoints:  # type: ignore[override]
        """The Gamma point only, as the reference MD."""
        return Kpoints.gamma_automatic((1, 1, 1))
