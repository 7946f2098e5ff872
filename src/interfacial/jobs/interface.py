"""Jobs of the interface-energetics flow: match lattices, build and relax models, energetics.

Grouping keys for builders go into each job's ``metadata['interfacial']``, typed by
:mod:`interfacial.schemas.roles` (roles interface / strained_bulk / interface_energetics):
``interface_id``, ``side`` (strained bulks), Miller indices as lists, terminations, registry,
gap, relaxation, area and the counts the energetics need.
"""

from __future__ import annotations

import hashlib
import json
from typing import TYPE_CHECKING, Any

import numpy as np
from jobflow import Flow, Job, Maker, Response, job
from jobflow.core.reference import OnMissing

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


#: Maker fields that change what is kept of a run, not its result: left out of the tier hash so
#: that keeping less of each relaxation does not make stored screens unreusable.
UNHASHED_MAKER_KEYS = ("@version", "ionic_step_data", "store_trajectory")


def tier_hash(
    model_options: dict[str, Any],
    relaxations: list[str],
    interface_relax_maker: Maker,
    strained_bulk_relax_maker: Maker,
) -> str:
    """Short hash of what makes a tier's result: model options, relaxations, relax makers.

    Two screens with the same hash (and the same bulks, facets, terminations and cell) compute
    the same models, so one may reuse the other's result. The makers enter through their
    serialised form without the package versions (a version bump alone does not invalidate).
    """
    from monty.json import jsanitize

    def strip(value: Any) -> Any:
        if isinstance(value, dict):
            return {k: strip(v) for k, v in value.items() if k not in UNHASHED_MAKER_KEYS}
        if isinstance(value, list):
            return [strip(v) for v in value]
        return value

    makers = [
        strip(jsanitize(m.as_dict(), strict=False, enum_values=True))
        for m in (interface_relax_maker, strained_bulk_relax_maker)
    ]
    text = json.dumps([model_options, sorted(relaxations), makers], sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:8]


def make_interface_id(
    metal_bulk_uuid: str,
    compound_bulk_uuid: str,
    candidate: MatchCandidate | MatchCandidateDocument,
    index: int,
    *,
    metal_terminations: list[str] | None = None,
    compound_terminations: list[str] | None = None,
    tier: str | None = None,
    settings_hash: str | None = None,
) -> str:
    """The id of one candidate's calculation.

    ``<metal bulk uuid>/<compound bulk uuid>/<hkl>/<hkl>/<cell>``; with termination filters
    ``/<metal terms>|<compound terms>`` follows ('+' between several), and with a screening tier
    ``/<settings hash>/<tier>`` (so the id ends with the tier). Without filters and tier the id
    is the one stored since the first release.
    """
    parts = [
        metal_bulk_uuid,
        compound_bulk_uuid,
        ",".join(map(str, candidate.metal_miller)),
        ",".join(map(str, candidate.compound_miller)),
        str(index),
    ]
    if metal_terminations is not None or compound_terminations is not None:
        parts.append(
            f"{'+'.join(metal_terminations or ['*'])}|{'+'.join(compound_terminations or ['*'])}"
        )
    if tier is not None:
        parts.extend([settings_hash or "-", tier])
    return "/".join(parts)


def candidate_jobs(
    candidate: MatchCandidate,
    interface_id: str,
    interface_key_text: str,
    metal: str,
    compound: str,
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
    *,
    energetics_name: str,
    tier: str | None = None,
    settings_hash: str | None = None,
    metal_terminations: list[str] | None = None,
    compound_terminations: list[str] | None = None,
) -> tuple[list[Job | Flow], Job]:
    """The jobs of one candidate: model relaxations, two strained bulks and the energetics.

    Called inside a running job (the models need the relaxed bulks). Job names start with
    '<kind> <interface_key_text>' ('interface relax Li(110)|Li2S(110) <model label>
    <relaxation>', 'strained bulk relax <text> metal'); the energetics job is called
    ``energetics_name``. Returns every job and the energetics job (its output: one
    InterfaceDocument per model).
    """
    from interfacial.structures.interfaces import build_interface_models
    from interfacial.structures.supercells import strained_bulk

    common: dict[str, Any] = {"interface_id": interface_id, "calculator": calculator}
    tier_keys = {} if tier is None else {"tier": tier}
    models = build_interface_models(
        metal_structure,
        compound_structure,
        candidate,
        **model_options,
        metal_terminations=metal_terminations,
        compound_terminations=compound_terminations,
    )
    relaxes, keys = [], []
    for model in models:
        for relaxation in relaxations:
            k = {**model_keys(model, interface_id, metal, compound, relaxation), **tier_keys}
            relax = _tagged_relax(
                interface_relax_maker,
                freeze_middle(model, relaxation),
                f"interface relax {interface_key_text} {model.label} {relaxation}",
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
            f"strained bulk relax {interface_key_text} {side}",
            Role.STRAINED_BULK,
            side=side,
            n_units=int(n_units),
            **common,
        )
    _, compound_factor = compound_structure.composition.get_reduced_composition_and_factor()
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
        metal_energy / len(metal_structure),
        compound_energy / compound_factor,
        metal_bulk_uuid,
        compound_bulk_uuid,
        metal_surfaces,
        compound_surfaces,
        calculator,
        adhesion_threshold,
    )
    energetics.name = energetics_name
    if tier is not None:
        # A screen reads whatever finished: one failed model must not leave this job (and the
        # screen behind it) waiting forever, as FireWorks would with a FIZZLED parent.
        energetics.config.on_missing_references = OnMissing.NONE
    tag(
        energetics,
        Role.INTERFACE_ENERGETICS,
        **common,
        **tier_keys,
        **({} if settings_hash is None else {"tier_hash": settings_hash}),
    )
    return [*relaxes, strained["metal"], strained["compound"], energetics], energetics


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
    tier: str | None = None,
    metal_terminations: list[str] | None = None,
    compound_terminations: list[str] | None = None,
) -> Response:
    """Fan out per selected candidate: model relaxations, two strained bulks, energetics.

    With a screening ``tier`` the interface_id ends with ``/<settings hash>/<tier>`` and every
    model's keys carry the tier; termination filters narrow the models to those terminations
    (and enter the interface_id). Without them the ids and keys are those of the first release.
    """
    settings_hash = (
        None
        if tier is None
        else tier_hash(model_options, relaxations, interface_relax_maker, strained_bulk_relax_maker)
    )
    jobs: list[Job | Flow] = []
    outputs = []
    filtered = metal_terminations is not None or compound_terminations is not None
    for index in report.selected:
        candidate = candidate_from_document(report.candidates[index])
        text = report.interface_key
        if filtered or tier is not None:
            # Names stay unique across the termination pairs and tiers of one facet pair.
            metal_terms = "+".join(metal_terminations or ["*"])
            terms = f"{metal_terms}|{'+'.join(compound_terminations or ['*'])}"
            text = f"{text} {terms} #{index} {tier or ''}".rstrip()
        interface_id = make_interface_id(
            metal_bulk_uuid,
            compound_bulk_uuid,
            candidate,
            index,
            metal_terminations=metal_terminations,
            compound_terminations=compound_terminations,
            tier=tier,
            settings_hash=settings_hash,
        )
        new, energetics = candidate_jobs(
            candidate,
            interface_id,
            text,
            report.metal,
            report.compound,
            metal_structure,
            compound_structure,
            metal_energy,
            compound_energy,
            metal_bulk_uuid,
            compound_bulk_uuid,
            metal_surfaces,
            compound_surfaces,
            interface_relax_maker,
            strained_bulk_relax_maker,
            calculator,
            model_options,
            relaxations,
            adhesion_threshold,
            energetics_name=(
                f"interface energetics {text}"
                if text != report.interface_key
                else f"interface energetics {text} #{index}"
            ),
            tier=tier,
            settings_hash=settings_hash,
            metal_terminations=metal_terminations,
            compound_terminations=compound_terminations,
        )
        jobs.extend(new)
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
    """E_f, sigma, strain energy and both W for every model of one candidate.

    In a screen this job is made with ``on_missing_references=OnMissing.NONE`` (it runs
    although a relaxation failed, on FireWorks too): a model whose relaxation gave no energy
    (None) is left out, and without both strained bulks there is no result (empty list).
    """
    if strained_metal_energy is None or strained_compound_energy is None:
        return []
    docs = []
    for k, energy, uuid in zip(keys, interface_energies, interface_uuids, strict=True):
        if energy is None:
            continue
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


@job
def lowest_interface_model(energetics: list[Any], label: str) -> Structure:
    """The relaxed model with the lowest E_f of an interface flow's output, with its regions.

    ``energetics`` is the flow's output: one list of InterfaceDocuments per candidate. Of the
    models marked ``is_lowest`` (one per interface_id), the lowest E_f wins, as
    ``interface:METAL(hkl)|COMPOUND(hkl)`` chooses among stored documents; its relaxed
    structure is read from the JobStore (the relaxation ran in the same workflow), so the
    job must be made with ``config.expose_store = True`` (:func:`lowest_model_job`).
    """
    from jobflow import CURRENT_JOB
    from pymatgen.core import Structure

    docs = [
        d.model_dump() if hasattr(d, "model_dump") else dict(d)
        for group in energetics or []
        for d in group or []
    ]
    lowest = [d for d in docs if d.get("is_lowest")]
    if not lowest:
        raise InterfacialError(f"interface {label}: no relaxed model finished, nothing to pick")
    best = min(lowest, key=lambda d: float(d["E_f"]))
    task = CURRENT_JOB.store.query_one(
        {"uuid": best["interface_uuid"]},
        properties=["output.structure"],
        sort={"index": -1},
        load=True,
    )
    if task is None:
        raise InterfacialError(f"interface {label}: the relaxed model is missing from the store")
    structure = Structure.from_dict(task["output"]["structure"])
    if "region" not in structure.site_properties:
        raise InterfacialError(f"interface {label}: its relaxed model has no 'region' property")
    return structure


def lowest_model_job(energetics: Any, label: str) -> Job:
    """A :func:`lowest_interface_model` job on an interface flow's output, the store exposed."""
    picker = lowest_interface_model(energetics, label)
    picker.name = f"lowest model {label}"
    picker.config.expose_store = True  # its own config: a decorator's would be shared
    return picker
