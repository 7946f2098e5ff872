"""The contract between jobs and builders: the role of each stored job and its keys, typed.

Every job a builder, a query or the command line must find carries
``metadata['interfacial'] = {"role": <Role>, **keys}``. Each :class:`Role` has one pydantic
model of its keys (units in the field descriptions; unknown keys are refused), so a typo fails
when the flow is made, not when a builder meets the document months later.

One writer, :func:`tag`, and one reader, :func:`read_keys`; :func:`role_filter` writes store
queries on the same keys. The role strings are those stored since the first release, so existing
databases keep working.

A maker may return a Flow instead of a Job (atomate2's ``DoubleRelaxMaker``): the keys then go on
the job(s) whose output is the flow's output (jobflow's ``Flow.output`` references them by uuid),
because that job's task document holds what a builder reads (final structure, energy). The
other jobs of such a flow keep their metadata untouched and are not found by role.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from enum import StrEnum
from typing import TYPE_CHECKING, Any, ClassVar, Literal, TypeVar, overload

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from interfacial.errors import InterfacialError

if TYPE_CHECKING:
    from jobflow import Flow, Job

#: Where the keys sit in a task document (the prefix of every store query on them).
METADATA_KEY = "metadata.interfacial"


class Role(StrEnum):
    """What a stored job is, for builders and queries (``metadata.interfacial.role``)."""

    BULK = "bulk"
    FACETS = "facets"
    SURFACE_FANOUT = "surface_fanout"
    SLAB = "slab"
    SURFACE = "surface"
    SURFACE_MATERIAL = "surface_material"
    MATCH = "match"
    INTERFACE_FANOUT = "interface_fanout"
    INTERFACE = "interface"
    STRAINED_BULK = "strained_bulk"
    INTERFACE_ENERGETICS = "interface_energetics"
    SCREEN_CANDIDATES = "screen_candidates"
    SCREEN_TIER = "screen_tier"
    SCREENING = "screening"
    REFERENCE_MD = "reference_md"
    REFERENCE_MD_RAMP = "reference_md_ramp"
    REFERENCE_MD_PRODUCTION = "reference_md_production"
    TRAINING_SETS = "training_sets"
    MTP_FIT = "mtp_fit"
    ACTIVE_LEARNING = "active_learning"
    AL_LABEL = "al_label"
    TRANSPORT_LEARNING = "transport_learning"
    DIFFUSION_MD = "diffusion_md"
    ARRHENIUS_SUMMARY = "arrhenius_summary"


class RoleKeys(BaseModel):
    """Keys of one role (without ``role`` itself); unknown keys are refused."""

    model_config = ConfigDict(extra="forbid")

    ROLE: ClassVar[Role]


# ----------------------------------------------------------------------------- surface energies


class BulkKeys(RoleKeys):
    """The bulk relaxation (cell and positions) a surface-energy flow starts from."""

    ROLE = Role.BULK
    material: str = Field(description="Material label (e.g. 'Li', 'Li2S')")
    formula: str = Field(description="Reduced formula of the bulk")
    calculator: str = Field(description="Calculator label (e.g. 'CHGNet', 'VASP')")


class MaterialKeys(RoleKeys):
    """Keys shared by the jobs of one material's surface flow that are not slabs."""

    material: str = Field(description="Material label")
    bulk_uuid: str = Field(description="uuid of the bulk relaxation job")


class FacetsKeys(MaterialKeys):
    """The enumeration of facets and terminations (no calculation)."""

    ROLE = Role.FACETS


class SurfaceFanoutKeys(MaterialKeys):
    """The job that fans out one thickness chain per termination."""

    ROLE = Role.SURFACE_FANOUT


class SurfaceMaterialKeys(MaterialKeys):
    """The Wulff shape of one material."""

    ROLE = Role.SURFACE_MATERIAL


class SlabKeys(RoleKeys):
    """A fixed-cell slab relaxation: what gamma is computed from."""

    ROLE = Role.SLAB
    material: str = Field(description="Material label")
    formula: str = Field(description="Reduced formula of the bulk")
    bulk_uuid: str = Field(description="uuid of the bulk relaxation job")
    calculator: str = Field(description="Calculator label")
    miller_index: list[int] = Field(description="Miller index of the conventional standard cell")
    termination: str = Field(description="Termination label: t<i>-<formula of the top plane>")
    shift: float = Field(description="pymatgen SlabGenerator shift (fractional, along c)")
    tasker_type: int = Field(description="Tasker type of the facet (1, 2 or 3)")
    n_repeats: int = Field(description="Oriented-cell repeats of the slab")
    n_atoms: int = Field(description="Atoms in the slab")
    area: float = Field(description="Area of one face (A^2)")
    slab_thickness: float = Field(description="Bulk-equivalent slab thickness (A)")
    vacuum: float = Field(description="Vacuum between periodic images (A)")
    convergence_tol: float = Field(description="Thickness convergence criterion on gamma (J/m^2)")


class SurfaceKeys(RoleKeys):
    """gamma of one termination at one thickness (a step of the thickness chain)."""

    ROLE = Role.SURFACE
    material: str = Field(description="Material label")
    bulk_uuid: str = Field(description="uuid of the bulk relaxation job")
    miller_index: list[int] = Field(description="Miller index of the conventional standard cell")
    termination: str = Field(description="Termination label")
    n_repeats: int = Field(description="Oriented-cell repeats of the slab of this step")


# ----------------------------------------------------------------------------- interfaces


class MatchKeys(RoleKeys):
    """The lattice matching of one interface."""

    ROLE = Role.MATCH
    interface_key: str = Field(description="Human-readable key, e.g. 'Li(110)|Li2S(110)'")


class InterfaceFanoutKeys(RoleKeys):
    """The job that fans out the model relaxations of one interface."""

    ROLE = Role.INTERFACE_FANOUT
    interface_key: str = Field(description="Human-readable key, e.g. 'Li(110)|Li2S(110)'")
    metal_bulk_uuid: str = Field(description="uuid of the metal's bulk relaxation job")
    compound_bulk_uuid: str = Field(description="uuid of the compound's bulk relaxation job")


class InterfaceKeys(RoleKeys):
    """The relaxation of one interface model (positions and the cell length along the normal)."""

    ROLE = Role.INTERFACE
    interface_id: str = Field(
        description="<metal bulk uuid>/<compound bulk uuid>/<hkl>/<hkl>/<i>, in a screen "
        "followed by /<terminations>/<settings hash>/<tier>"
    )
    model_id: str = Field(description="<interface_id>/<model label>/<relaxation>")
    metal: str = Field(description="Metal label")
    compound: str = Field(description="Compound label")
    metal_miller: list[int] = Field(description="Metal facet (conventional standard cell)")
    compound_miller: list[int] = Field(description="Compound facet (conventional standard cell)")
    metal_termination: str = Field(description="Metal termination label")
    compound_termination: str = Field(description="Compound termination label")
    registry: list[float] = Field(description="In-plane shift of the metal (fractional)")
    gap: float = Field(description="Initial distance between the slabs (A)")
    relaxation: str = Field(description="'fully-relaxed', 'fix-binary' or 'fix-metal'")
    mismatch: float = Field(description="Vector mismatch (fraction, compound as reference)")
    angle_mismatch: float = Field(description="Angle mismatch (degrees)")
    area: float = Field(description="Area of one interface (A^2)")
    n_atoms: int = Field(description="Atoms in the model")
    metal_is_perfect: bool = Field(description="The metal slab is a perfect lattice (no defect)")
    n_metal_atoms: int = Field(description="Metal atoms in the model")
    n_compound_formula_units: int = Field(description="Compound formula units in the model")
    metal_matrix: list[list[int]] = Field(description="Supercell matrix of the metal face")
    compound_matrix: list[list[int]] = Field(description="Supercell matrix of the compound face")
    calculator: str = Field(description="Calculator label")
    metal_bulk_uuid: str = Field(description="uuid of the metal's bulk relaxation job")
    compound_bulk_uuid: str = Field(description="uuid of the compound's bulk relaxation job")
    adhesion_threshold: float | None = Field(
        None, description="W_adhesion (J/m^2) above which adhesion is flagged strong"
    )
    tier: str | None = Field(
        None, description="Screening tier ('prescreen', 'refine'); None outside a screen"
    )


class StrainedBulkKeys(RoleKeys):
    """A bulk strained to the interface's in-plane lattice, relaxed along the normal."""

    ROLE = Role.STRAINED_BULK
    interface_id: str = Field(description="The interface this bulk serves")
    calculator: str = Field(description="Calculator label")
    side: Literal["metal", "compound"] = Field(description="Which side of the interface")
    n_units: int = Field(description="Metal atoms or compound formula units in the cell")


class InterfaceEnergeticsKeys(RoleKeys):
    """E_f, sigma and W of every model of one candidate (the flow's own analysis)."""

    ROLE = Role.INTERFACE_ENERGETICS
    interface_id: str = Field(description="The interface analysed")
    calculator: str = Field(description="Calculator label")
    tier: str | None = Field(None, description="Screening tier; None outside a screen")
    tier_hash: str | None = Field(
        None, description="Hash of the tier's model and relaxation settings (also in the id)"
    )


# ----------------------------------------------------------------------------- screening


class ScreeningRunKeys(RoleKeys):
    """Keys shared by the jobs of one screen."""

    screening_id: str = Field(
        description="'<electrolyte>|<metal>|<calculator>[|<refine calculator>]'"
    )
    electrolyte: str = Field(description="Electrolyte as given (formula, alias, file label)")
    metal: str = Field(description="Metal label")
    calculator: str = Field(description="Calculator of the surfaces and the pre-screen")


class ScreenCandidatesKeys(ScreeningRunKeys):
    """The job that selects the facets and lattice-matches every facet/termination pair."""

    ROLE = Role.SCREEN_CANDIDATES


class ScreenTierKeys(ScreeningRunKeys):
    """The fan-out of one tier: one interface calculation per candidate (or a reused one)."""

    ROLE = Role.SCREEN_TIER
    tier: Literal["prescreen", "refine"] = Field(description="Which tier")
    tier_calculator: str = Field(description="Calculator of this tier's interface models")


class ScreeningKeys(ScreeningRunKeys):
    """The terminal job of a screen: the ScreeningDocument (the flow's own analysis)."""

    ROLE = Role.SCREENING
    refine_calculator: str = Field(description="Calculator of the refine tier")


# ----------------------------------------------------------------------------- potentials


class ReferenceMDKeys(RoleKeys):
    """The summary of one reference MD run (training or validation snapshots)."""

    ROLE = Role.REFERENCE_MD
    purpose: Literal["training", "validation"] = Field(description="What the snapshots are for")
    temperature: float = Field(description="Production temperature (K)")
    system: str = Field(description="System label (e.g. 'Li2S', 'Li2S-vac')")
    calculator: str = Field(description="Calculator label")


class ReferenceMDRampKeys(ReferenceMDKeys):
    """The temperature ramp of a staged reference MD run (its engine step)."""

    ROLE = Role.REFERENCE_MD_RAMP


class ReferenceMDProductionKeys(ReferenceMDKeys):
    """The production stage of a staged reference MD run (its engine step)."""

    ROLE = Role.REFERENCE_MD_PRODUCTION


class TrainingSetsKeys(RoleKeys):
    """Training and validation sets (.cfg texts) made from the reference MD."""

    ROLE = Role.TRAINING_SETS
    system: str = Field(description="System label")


class MTPFitKeys(RoleKeys):
    """One fit of a moment tensor potential."""

    ROLE = Role.MTP_FIT
    system: str = Field(description="System label")
    engine: str = Field(description="Fit engine name (e.g. 'motep', 'mlp')")
    level: int = Field(description="MTP level")


class ActiveLearningKeys(RoleKeys):
    """One round of active learning (grade, select, label, refit)."""

    ROLE = Role.ACTIVE_LEARNING
    round: int = Field(description="Round index (0 for the first)")
    system: str | None = Field(None, description="System label (on the first round)")


class ALLabelKeys(RoleKeys):
    """The reference calculation labelling one selected configuration."""

    ROLE = Role.AL_LABEL
    round: int = Field(description="Round that selected the configuration")


# ----------------------------------------------------------------------------- transport


class TransportLearningKeys(RoleKeys):
    """One round of active learning on a transport cell (exploring MD, grades, selection)."""

    ROLE = Role.TRANSPORT_LEARNING
    system: str = Field(description="System label of the transport runs")
    round: int = Field(description="Round index (0 for the first)")


class DiffusionMDKeys(RoleKeys):
    """One transport MD run at one temperature."""

    ROLE = Role.DIFFUSION_MD
    system: str = Field(description="System label")
    temperature: float = Field(description="Temperature (K)")
    fit_window: list[float] | None = Field(
        None, description="MSD fit window [start, end] (ps); None uses the default rule"
    )


class ArrheniusSummaryKeys(RoleKeys):
    """The Arrhenius fits of one system's transport runs (the flow's own analysis)."""

    ROLE = Role.ARRHENIUS_SUMMARY
    system: str = Field(description="System label")


#: The keys model of each role.
MODELS: dict[Role, type[RoleKeys]] = {
    model.ROLE: model
    for model in (
        BulkKeys,
        FacetsKeys,
        SurfaceFanoutKeys,
        SlabKeys,
        SurfaceKeys,
        SurfaceMaterialKeys,
        MatchKeys,
        InterfaceFanoutKeys,
        InterfaceKeys,
        StrainedBulkKeys,
        InterfaceEnergeticsKeys,
        ScreenCandidatesKeys,
        ScreenTierKeys,
        ScreeningKeys,
        ReferenceMDKeys,
        ReferenceMDRampKeys,
        ReferenceMDProductionKeys,
        TrainingSetsKeys,
        MTPFitKeys,
        ActiveLearningKeys,
        ALLabelKeys,
        TransportLearningKeys,
        DiffusionMDKeys,
        ArrheniusSummaryKeys,
    )
}
assert set(MODELS) == set(Role), "every role needs its keys model"

K = TypeVar("K", bound=RoleKeys)
J = TypeVar("J", bound="Job | Flow")


def _problems(error: ValidationError) -> str:
    """One line naming each bad key."""
    out = []
    for e in error.errors():
        key = ".".join(str(p) for p in e["loc"]) or "?"
        if e["type"] == "extra_forbidden":
            out.append(f"unknown key '{key}'")
        elif e["type"] == "missing":
            out.append(f"missing key '{key}'")
        else:
            out.append(f"key '{key}': {e['msg']} (got {e['input']!r})")
    return "; ".join(out)


def _validate(model: type[K], keys: Mapping[str, Any], where: str) -> K:
    try:
        return model.model_validate(dict(keys))
    except ValidationError as exc:
        raise InterfacialError(
            f"{where}: keys of role '{model.ROLE}': {_problems(exc)}; "
            f"allowed: {', '.join(model.model_fields)}"
        ) from None


def _walk(job_or_flow: Job | Flow) -> Iterator[Job]:
    """Every job of a flow, nested flows included, in flow order."""
    from jobflow import Job  # jobflow is slow to import: the command line must not wait for it

    if isinstance(job_or_flow, Job):
        yield job_or_flow
        return
    for child in job_or_flow.jobs:
        yield from _walk(child)


def output_jobs(job_or_flow: Job | Flow) -> list[Job]:
    """The job(s) whose output is the flow's output (the job itself for a Job).

    Raises
    ------
    InterfacialError
        A flow without output: none of its documents holds a result to find.

    """
    from jobflow import Job
    from jobflow.core.reference import find_and_get_references

    if isinstance(job_or_flow, Job):
        return [job_or_flow]

    uuids = {ref.uuid for ref in find_and_get_references(job_or_flow.output)}
    jobs = [j for j in _walk(job_or_flow) if j.uuid in uuids]
    if not jobs:
        raise InterfacialError(
            f"flow '{job_or_flow.name}' has no output job to carry its keys; a maker used here "
            "must return a Job or a Flow whose output is one of its jobs' outputs"
        )
    return jobs


def output_job(job_or_flow: Job | Flow) -> Job:
    """The one job whose output is the flow's output (the job itself for a Job)."""
    jobs = output_jobs(job_or_flow)
    if len(jobs) != 1:
        raise InterfacialError(
            f"flow '{job_or_flow.name}': its output comes from {len(jobs)} jobs, expected one"
        )
    return jobs[0]


def tag(job_or_flow: J, role: Role, **keys: Any) -> J:
    """Validate ``keys`` against the role's model and merge them into ``metadata['interfacial']``.

    Other metadata is kept, and so are keys of the same role set earlier (validated again with
    the new ones). For a Flow the keys go on its output job(s) (see the module docstring).

    Returns
    -------
    Job or Flow
        ``job_or_flow`` itself, for chaining.

    Raises
    ------
    InterfacialError
        A key unknown to the role, missing or of the wrong type (one line naming it), or a job
        already tagged with another role.

    """
    role = Role(role)
    model = MODELS[role]
    for carrier in output_jobs(job_or_flow):
        metadata = dict(carrier.metadata or {})
        existing = dict(metadata.get("interfacial") or {})
        previous = existing.pop("role", None)
        if previous is not None and previous != role:
            raise InterfacialError(
                f"job '{carrier.name}' is already tagged '{previous}'; cannot tag it '{role}'"
            )
        validated = _validate(model, {**existing, **keys}, f"job '{carrier.name}'")
        stored = validated.model_dump(exclude_unset=True)
        carrier.metadata = {**metadata, "interfacial": {"role": role.value, **stored}}
    return job_or_flow


def stored_role(source: Mapping[str, Any] | Job) -> Role:
    """The role of a task document, a job's metadata or a job."""
    keys, where = _locate(source)
    return _role_of(keys, where)


def _locate(source: Mapping[str, Any] | Job) -> tuple[dict[str, Any], str]:
    """The ``interfacial`` keys of a task document, a metadata dict or a job, and their owner."""
    metadata: Mapping[str, Any]
    if not isinstance(source, Mapping):  # a Job
        metadata, where = source.metadata or {}, f"job '{source.name}'"
    elif "metadata" in source:
        metadata, where = source["metadata"] or {}, f"task document {source.get('uuid', '?')}"
    else:
        metadata, where = source, "job metadata"
    keys = metadata.get("interfacial")
    if not isinstance(keys, Mapping):
        raise InterfacialError(f"{where} carries no metadata.interfacial keys")
    return dict(keys), where


def _role_of(keys: Mapping[str, Any], where: str) -> Role:
    try:
        return Role(str(keys.get("role")))
    except ValueError:
        raise InterfacialError(
            f"{where}: unknown role {keys.get('role')!r} in metadata.interfacial"
        ) from None


@overload
def read_keys(source: Mapping[str, Any] | Job, role: type[K]) -> K: ...
@overload
def read_keys(source: Mapping[str, Any] | Job, role: Role | None = None) -> RoleKeys: ...
def read_keys(
    source: Mapping[str, Any] | Job, role: type[RoleKeys] | Role | None = None
) -> RoleKeys:
    """The validated keys of a task document, a job's metadata dict or a job.

    Parameters
    ----------
    source : dict or Job
        A task document (with ``metadata``), a job's ``metadata`` or a Job.
    role : Role or RoleKeys subclass, optional
        The role expected; a keys model returns that model (typed). None reads the stored role.

    Raises
    ------
    InterfacialError
        Malformed document: names its uuid and the bad key, or the unexpected role.

    """
    keys, where = _locate(source)
    found = _role_of(keys, where)
    if role is not None:
        expected = role if isinstance(role, Role) else role.ROLE
        if found != expected:
            raise InterfacialError(f"{where} has role '{found}', expected '{expected}'")
    keys.pop("role")
    return _validate(MODELS[found], keys, where)


def role_filter(role: Role | list[Role], **keys: Any) -> dict[str, Any]:
    """A store query on the role (one or any of several) and on keys of it.

    >>> role_filter(Role.SLAB, bulk_uuid="abc")
    {'metadata.interfacial.role': 'slab', 'metadata.interfacial.bulk_uuid': 'abc'}

    Raises
    ------
    InterfacialError
        A key that one of the roles does not have (the query would silently match nothing).

    """
    roles = [Role(r) for r in (role if isinstance(role, list) else [role])]
    for r in roles:
        unknown = sorted(set(keys) - set(MODELS[r].model_fields))
        if unknown:
            raise InterfacialError(f"role '{r}' has no key {', '.join(unknown)}")
    criteria: dict[str, Any] = {
        f"{METADATA_KEY}.role": roles[0].value
        if len(roles) == 1
        else {"$in": [r.value for r in roles]}
    }
    criteria.update({f"{METADATA_KEY}.{k}": v for k, v in keys.items()})
    return criteria


def tagged_jobs(flow: Job | Flow, role: Role) -> list[Job]:
    """The jobs of ``flow`` (nested flows included, in flow order) tagged with ``role``."""
    return [
        j
        for j in _walk(flow)
        if isinstance((j.metadata or {}).get("interfacial"), Mapping)
        and j.metadata["interfacial"].get("role") == role
    ]


def tagged_job(flow: Job | Flow, role: Role) -> Job:
    """The one job of ``flow`` tagged with ``role``."""
    jobs = tagged_jobs(flow, role)
    if len(jobs) != 1:
        raise InterfacialError(
            f"flow '{flow.name}' holds {len(jobs)} jobs of role '{role}', expected one"
        )
    return jobs[0]
