"""Jobs of the interface-energetics flow: match lattices, build and relax models, energetics.

Grouping keys for builders go into each job's ``metadata['interfacial']``, typed by
:mod:`interfacial.schemas.roles` (roles interface / strained_bulk / interface_energetics):
``interface_id``, ``side`` (strained bulks), Miller indices as lists, terminations, registry,
gap, relaxation, area and the counts the energetics need.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
from jobflow import Flow, Job, Maker, Response, job

from interfacial.errors import InterfacialError
from interfacial.jobs.surface import named
from interfacial.schemas.interface import (
    InterfaceDocument,
    InterfaceEnergies,
    MatchCandidateDocument,
    MatchReport,
    mark_lowest,
)
from interfacial.schemas.roles import Role, StrainedBulkKeys, output_job, read_keys, tag
from interfacial.structures.slabs import miller_label

if TYPE_CHECKING:
    from pymatgen.core import Structure

    from interfacial.structures.interfaces import InterfaceModel
    from interfacial.structures.matching import MatchCandidate

#: Fraction of a slab's thickness, centred on its middle, frozen by the fix-* variants.
FROZEN_FRACTION = 0.5


def interface_key(
    metal: str, metal_miller: list[int], compound: str, compound_miller: list[int]
) -> str:
    """Human-readable key, e.g. 'Li(110)|Li2S(110)'."""
    return f"{metal}{miller_label(metal_miller)}|{compound}{miller_label(compound_miller)}"


def candidate_from_document(doc: MatchCandidateDocument | dict[str, Any]) -> MatchCandidate:
    """Rebuild the geometry candidate stored in a MatchReport."""
    from interfacial.structures.matching import MatchCandidate

    return MatchCandidate.from_dict(
        doc.model_dump() if isinstance(doc, MatchCandidateDocument) else dict(doc)
    )


@job(output_schema=MatchReport)
def match_interfaces(
    metal_structure: Structure,
    compound_structure: Structure,
    metal: str,
    compound: str,
    metal_miller: list[int],
    compound_miller: list[int],
    match_options: dict[str, Any],
    max_atoms: int,
    n_candidates: int,
) -> MatchReport:
    """Lattice-match the relaxed bulks and choose the candidates to compute."""
    from interfacial.structures.matching import find_matches, select_candidates

    candidates = find_matches(
        metal_structure, compound_structure, metal_miller, compound_miller, **match_options
    )
    return MatchReport(
        interface_key=interface_key(metal, metal_miller, compound, compound_miller),
        metal=metal,
        compound=compound,
        candidates=[MatchCandidateDocument(**c.as_dict()) for c in candidates],
        selected=select_candidates(candidates, max_atoms, n_candidates),
        max_area=match_options.get("max_area", float("nan")),
        max_mismatch=match_options.get("max_mismatch", float("nan")),
        max_atoms=max_atoms,
    )


def freeze_middle(model: InterfaceModel, relaxation: str) -> Structure:
    """The model's structure with the middle layers of one side frozen (selective dynamics).

    ``fix-binary`` freezes the compound atoms, ``fix-metal`` the metal atoms, whose height lies in
    the central ``FROZEN_FRACTION`` of their slab; ``fully-relaxed`` freezes nothing. Selective
    dynamics is read by VASP (POSCAR) and by ASE (FixAtoms through pymatgen's adaptor).
    """
    structure = model.structure.copy()
    if relaxation == "fully-relaxed":
        return structure
    region = {"fix-binary": "compound", "fix-metal": "metal"}.get(relaxation)
    if region is None:
        raise InterfacialError(
            f"unknown relaxation '{relaxation}'; choose fully-relaxed, fix-binary or fix-metal"
        )
    regions = np.array(structure.site_properties["region"])
    c = structure.lattice.c
    z = structure.frac_coords[:, 2]
    side = regions == region
    # The slab may wrap around the cell boundary: measure heights from its centre, circularly.
    angles = 2 * np.pi * z[side]
    centre = np.angle(np.mean(np.exp(1j * angles))) / (2 * np.pi) % 1.0
    offset = (z - centre + 0.5) % 1.0 - 0.5
    half_thickness = np.max(np.abs(offset[side]))
    frozen = side & (np.abs(offset) <= FROZEN_FRACTION * half_thickness + 1e-9 / c)
    structure.add_site_property(
        "selective_dynamics", [[not f, not f, not f] for f in frozen.tolist()]
    )
    return structure


def model_keys(
    model: InterfaceModel, interface_id: str, metal: str, compound: str, relaxation: str
) -> dict[str, Any]:
    """Grouping keys of one model's relaxation (stored as job metadata and in documents)."""
    cand = model.candidate
    return {
        "interface_id": interface_id,
        "model_id": f"{interface_id}/{model.label}/{relaxation}",
        "metal": metal,
        "compound": compound,
        "metal_miller": list(cand.metal_miller),
        "compound_miller": list(cand.compound_miller),
        "metal_termination": model.metal_termination,
        "compound_termination": model.compound_termination,
        "registry": [float(x) for x in model.registry],
        "gap": float(model.gap),
        "relaxation": relaxation,
        "mismatch": float(cand.mismatch),
        "angle_mismatch": float(cand.angle_mismatch),
        "area": float(model.area),
        "n_atoms": len(model.structure),
        "metal_is_perfect": bool(model.metal_is_perfect),
        "n_metal_atoms": int(model.n_metal_atoms),
        "n_compound_formula_units": int(model.n_compound_formula_units),
        "metal_matrix": [list(map(int, r)) for r in cand.metal_matrix],
        "compound_matrix": [list(map(int, r)) for r in cand.compound_matrix],
    }


def _tagged_relax(
    maker: Maker, structure: Structure, name: str, role: Role, **keys: Any
) -> Job | Flow:
    return tag(named(maker.make(structure), name), role, **keys)


@job
def interface_calculations(
    report: MatchReport,
    metal_structure: Structure,
    compound_structure: Structure,
    metal_energy: float,
    compound_energy: float,
    metal_bulk_uuid: str,
    compound_bulk_uuid: str,
    metal_surfaces: Any,
    compound_surfaces: Any,
    interface_relax_maker: Maker,
    strained_bulk_relax_maker: Maker,
    calculator: str,
    model_options: dict[str, Any],
    relaxations: list[str],
    adhesion_threshold: float,
) -> Response:
    """Fan out per selected candidate: model relaxations, two strained bulks, energetics."""
    from interfacial.structures.interfaces import build_interface_models
    from interfacial.structures.supercells import strained_bulk

    jobs: list[Job | Flow] = []
    outputs = []
    metal_per_atom = metal_energy / len(metal_structure)
    _, compound_factor = compound_structure.composition.get_reduced_composition_and_factor()
    compound_per_fu = compound_energy / compound_factor
    for index in report.selected:
        candidate = candidate_from_document(report.candidates[index])
        interface_id = (
            f"{metal_bulk_uuid}/{compound_bulk_uuid}/"
            f"{','.join(map(str, candidate.metal_miller))}/"
            f"{','.join(map(str, candidate.compound_miller))}/{index}"
        )
        common = {"interface_id": interface_id, "calculator": calculator}
        models = build_interface_models(
            metal_structure, compound_structure, candidate, **model_options
        )
        relaxes, keys = [], []
        for model in models:
            for relaxation in relaxations:
                k = model_keys(model, interface_id, report.metal, report.compound, relaxation)
                relax = _tagged_relax(
                    interface_relax_maker,
                    freeze_middle(model, relaxation),
                    f"interface relax {report.interface_key} {model.label} {relaxation}",
                    Role.INTERFACE,
                    metal_bulk_uuid=metal_bulk_uuid,
                    compound_bulk_uuid=compound_bulk_uuid,
                    adhesion_threshold=adhesion_threshold,
                    **{**k, "calculator": calculator},
                )
                relaxes.append(relax)
                keys.append(k)
        strained = {}
        for side, bulk, miller, matrix in (
            ("metal", metal_structure, candidate.metal_miller, candidate.metal_matrix),
            ("compound", compound_structure, candidate.compound_miller, candidate.compound_matrix),
        ):
            structure, n_units = strained_bulk(bulk, miller, matrix, candidate.compound_vectors)
            strained[side] = _tagged_relax(
                strained_bulk_relax_maker,
                structure,
                f"strained bulk relax {report.interface_key} {side}",
                Role.STRAINED_BULK,
                side=side,
                n_units=int(n_units),
                **common,
            )
        energetics = interface_energetics(
            keys,
            [r.output.output.energy for r in relaxes],
            [output_job(r).uuid for r in relaxes],
            strained["metal"].output.output.energy,
            read_keys(output_job(strained["metal"]), StrainedBulkKeys).n_units,
            output_job(strained["metal"]).uuid,
            strained["compound"].output.output.energy,
            read_keys(output_job(strained["compound"]), StrainedBulkKeys).n_units,
            output_job(strained["compound"]).uuid,
            metal_per_atom,
            compound_per_fu,
            metal_bulk_uuid,
            compound_bulk_uuid,
            metal_surfaces,
            compound_surfaces,
            calculator,
            adhesion_threshold,
        )
        energetics.name = f"interface energetics {report.interface_key} #{index}"
        tag(energetics, Role.INTERFACE_ENERGETICS, **common)
        jobs.extend([*relaxes, strained["metal"], strained["compound"], energetics])
        outputs.append(energetics.output)
    return Response(replace=Flow(jobs, output=outputs))


def surface_gamma(surfaces: Any, miller: list[int], termination: str) -> tuple[float, str]:
    """Return gamma (J/m^2) and surface id of a termination from a SurfaceMaterialDocument/dict."""
    data = surfaces.model_dump() if hasattr(surfaces, "model_dump") else surfaces
    for entry in (data or {}).get("terminations", []):
        if list(entry["miller_index"]) == list(miller) and entry["termination"] == termination:
            return float(entry["surface_energy"]), str(entry["surface_id"])
    material = (data or {}).get("material", "?")
    raise InterfacialError(
        f"no surface energy of {material} {miller_label(miller)} termination {termination}: "
        "its slab calculation did not finish"
    )


@job
def interface_energetics(
    keys: list[dict[str, Any]],
    interface_energies: list[float],
    interface_uuids: list[str],
    strained_metal_energy: float,
    n_strained_metal_atoms: int,
    strained_metal_uuid: str,
    strained_compound_energy: float,
    n_strained_compound_units: int,
    strained_compound_uuid: str,
    metal_energy_per_atom: float,
    compound_energy_per_formula_unit: float,
    metal_bulk_uuid: str,
    compound_bulk_uuid: str,
    metal_surfaces: Any,
    compound_surfaces: Any,
    calculator: str,
    adhesion_threshold: float,
) -> list[InterfaceDocument]:
    """E_f, sigma, strain energy and both W for every model of one candidate."""
    docs = []
    for k, energy, uuid in zip(keys, interface_energies, interface_uuids, strict=True):
        gamma_metal, metal_surface_id = surface_gamma(
            metal_surfaces, k["metal_miller"], k["metal_termination"]
        )
        gamma_compound, compound_surface_id = surface_gamma(
            compound_surfaces, k["compound_miller"], k["compound_termination"]
        )
        energies = InterfaceEnergies(
            interface_energy=energy,
            n_metal_atoms=k["n_metal_atoms"],
            n_compound_formula_units=k["n_compound_formula_units"],
            metal_energy_per_atom=metal_energy_per_atom,
            compound_energy_per_formula_unit=compound_energy_per_formula_unit,
            strained_metal_energy_per_atom=strained_metal_energy / n_strained_metal_atoms,
            strained_compound_energy_per_formula_unit=(
                strained_compound_energy / n_strained_compound_units
            ),
            area=k["area"],
            gamma_metal=gamma_metal,
            gamma_compound=gamma_compound,
        )
        extra = {
            "calculator": calculator,
            "interface_uuid": uuid,
            "metal_bulk_uuid": metal_bulk_uuid,
            "compound_bulk_uuid": compound_bulk_uuid,
            "strained_metal_uuid": strained_metal_uuid,
            "strained_compound_uuid": strained_compound_uuid,
            "metal_surface_id": metal_surface_id,
            "compound_surface_id": compound_surface_id,
        }
        docs.append(InterfaceDocument.from_energies(energies, {**k, **extra}, adhesion_threshold))
    return mark_lowest(docs)
