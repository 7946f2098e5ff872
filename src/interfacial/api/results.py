"""Store reads and derived properties: the builders, the queries, stored potentials.

The builders turn stored task documents into surfaces, interfaces, D* and Arrhenius documents
(:func:`build`); the queries read them back. Every function validates its input completely
before it opens a store, so bad input writes nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from interfacial.errors import InterfacialError
from interfacial.schemas.roles import Role, role_filter
from interfacial.settings import InterfacialSettings, get_settings
from interfacial.stores import (
    ARRHENIUS,
    DIFFUSION,
    INTERFACES,
    SCREENING,
    SURFACE_MATERIALS,
    SURFACES,
    check_writable,
    derived_store,
    get_job_store,
)


def run_directory(settings: InterfacialSettings) -> Path:
    """Where local runs keep one folder per job: ``<data_dir>/runs``."""
    return settings.data_dir.expanduser().resolve() / "runs"


def build(
    settings: InterfacialSettings | None = None, query: dict[str, Any] | None = None
) -> dict[str, int]:
    """Run the builders: surfaces, interfaces, screens, D*, then Arrhenius fits.

    Interfaces read the surfaces, screens read the interfaces.

    ``query`` filters the surface builder's bulk task documents. Returns how many groups each
    builder rebuilt.
    """
    from maggma.core import Builder

    from interfacial.builders.diffusion import ArrheniusBuilder, DiffusionBuilder
    from interfacial.builders.interface import InterfaceBuilder
    from interfacial.builders.screening import ScreeningBuilder
    from interfacial.builders.surface import SurfaceBuilder

    settings = settings or get_settings()
    check_writable(settings)

    def run(builder: Builder) -> int:
        builder.connect()
        try:
            results = [builder.process_item(item) for item in builder.get_items()]
            builder.update_targets(results)
        finally:
            for store in (*builder.sources, *builder.targets):
                store.close()
        return len(results)

    counts = {
        "surfaces": run(
            SurfaceBuilder(
                get_job_store(settings).docs_store,
                derived_store(SURFACES, "surface_id", settings),
                derived_store(SURFACE_MATERIALS, "bulk_uuid", settings),
                query=query,
            )
        )
    }
    counts["interfaces"] = run(
        InterfaceBuilder(
            get_job_store(settings).docs_store,
            derived_store(SURFACES, "surface_id", settings),
            derived_store(INTERFACES, "model_id", settings),
        )
    )
    counts["screening"] = run(
        ScreeningBuilder(
            get_job_store(settings).docs_store,
            derived_store(INTERFACES, "model_id", settings),
            derived_store(SCREENING, "run_uuid", settings),
        )
    )
    counts["diffusion"] = run(
        DiffusionBuilder(
            get_job_store(settings).docs_store, derived_store(DIFFUSION, "diffusion_id", settings)
        )
    )
    counts["arrhenius"] = run(
        ArrheniusBuilder(
            derived_store(DIFFUSION, "diffusion_id", settings),
            derived_store(ARRHENIUS, "arrhenius_id", settings),
        )
    )
    return counts


def _clean(doc: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in doc.items() if k != "_id"}


def _keep_newest(
    docs: list[dict[str, Any]],
    group: Callable[[dict[str, Any]], Any],
    run: Callable[[dict[str, Any]], Any],
) -> list[dict[str, Any]]:
    """Keep, in each ``group``, the documents of the ``run`` that finished last.

    Ranked by ``flow_completed_at`` (when the run's terminal job finished), not by
    ``last_updated`` (when a builder wrote the document): see interfacial.builders.completion.
    """
    newest: dict[Any, dict[str, Any]] = {}
    for d in docs:
        if group(d) not in newest or finished_rank(d) > finished_rank(newest[group(d)]):
            newest[group(d)] = d
    return [d for d in docs if run(newest[group(d)]) == run(d)]


def empty_database_note(settings: InterfacialSettings | None = None) -> str | None:
    """Why a query found nothing, when no database exists yet (None otherwise); creates none."""
    from interfacial.stores import nothing_stored

    return nothing_stored(settings)


def finished_rank(doc: dict[str, Any]) -> tuple[str, Any]:
    """Order of derived documents by when their run finished (then when they were built)."""
    return (str(doc.get("flow_completed_at") or ""), doc["last_updated"])


def _read(name: str, key: str, criteria: dict[str, Any], settings: InterfacialSettings) -> list:
    store = derived_store(name, key, settings, read_only=True)  # creates and writes nothing
    store.connect()
    try:
        return [_clean(d) for d in store.query(criteria)]
    finally:
        store.close()


def query_surfaces(
    formula: str | None = None,
    *,
    material: str | None = None,
    bulk_uuid: str | None = None,
    latest_only: bool = True,
    settings: InterfacialSettings | None = None,
) -> list[dict[str, Any]]:
    """Per-termination surface documents, sorted by material, facet and termination.

    With ``latest_only`` (default) a termination computed several times with the same calculator
    (by the surface flow, or by the surface part of an interface flow) shows only its newest
    calculation (the run whose flow finished last; runs that did not finish are never built).
    """
    settings = settings or get_settings()
    criteria: dict[str, Any] = {}
    if formula:
        from pymatgen.core import Composition, Element

        try:
            composition = Composition(formula)
            valid = all(isinstance(el, Element) for el in composition.elements)
        except Exception:  # pymatgen raises several types for unparsable formulas
            valid = False
        if not valid:
            raise InterfacialError(f"'{formula}' is not a chemical formula; e.g. Li2S")
        criteria["formula"] = composition.reduced_formula
    if material:
        criteria["material"] = material
    if bulk_uuid:
        criteria["bulk_uuid"] = bulk_uuid
    docs = _read(SURFACES, "surface_id", criteria, settings)
    if latest_only and not bulk_uuid:
        docs = _keep_newest(
            docs,
            lambda d: (
                d["material"],
                d["calculator"],
                str(d["miller_index"]),
                d.get("termination"),
            ),
            lambda d: d["bulk_uuid"],
        )
    return sorted(
        docs,
        key=lambda d: (
            d["material"],
            d["miller_index"],
            d.get("termination") or "",
            d["bulk_uuid"],
        ),
    )


def query_surface_materials(settings: InterfacialSettings | None = None) -> list[dict[str, Any]]:
    """Per-material Wulff documents."""
    return _read(SURFACE_MATERIALS, "bulk_uuid", {}, settings or get_settings())


def query_interfaces(
    metal: str | None = None,
    compound: str | None = None,
    *,
    metal_bulk_uuid: str | None = None,
    lowest_only: bool = True,
    latest_only: bool = True,
    settings: InterfacialSettings | None = None,
) -> list[dict[str, Any]]:
    """Interface documents, sorted by metal, compound and facets.

    ``lowest_only`` keeps the lowest-E_f model of each interface; ``latest_only`` keeps the
    newest calculation of each (metal facet, compound facet, calculator).
    """
    settings = settings or get_settings()
    criteria: dict[str, Any] = {}
    if metal:
        criteria["metal"] = metal
    if compound:
        criteria["compound"] = compound
    if metal_bulk_uuid:
        criteria["metal_bulk_uuid"] = metal_bulk_uuid
    if lowest_only:
        criteria["is_lowest"] = True
    docs = _read(INTERFACES, "model_id", criteria, settings)
    if latest_only and not metal_bulk_uuid:
        docs = _keep_newest(
            docs,
            lambda d: (
                d["metal"],
                str(d["metal_miller"]),
                d["compound"],
                str(d["compound_miller"]),
                d["calculator"],
            ),
            lambda d: d["metal_bulk_uuid"],
        )
    return sorted(
        docs,
        key=lambda d: (
            d["metal"],
            d["compound"],
            d["metal_miller"],
            d["compound_miller"],
            d["E_f"],
        ),
    )


def query_diffusion(
    system: str | None = None,
    *,
    temperature: float | None = None,
    settings: InterfacialSettings | None = None,
) -> list[dict[str, Any]]:
    """Diffusion documents (MSD curves and D* per group and component), by system and T."""
    settings = settings or get_settings()
    criteria: dict[str, Any] = {}
    if system:
        criteria["system"] = system
    if temperature is not None:
        criteria["temperature"] = float(temperature)
    docs = _read(DIFFUSION, "diffusion_id", criteria, settings)
    return sorted(
        docs, key=lambda d: (d["system"], str(d.get("potential_sha256")), d["temperature"])
    )


def query_arrhenius(
    system: str | None = None, *, settings: InterfacialSettings | None = None
) -> list[dict[str, Any]]:
    """Arrhenius documents (Ea in meV, D0 in cm^2/s) per system, group and component."""
    settings = settings or get_settings()
    docs = _read(ARRHENIUS, "arrhenius_id", {"system": system} if system else {}, settings)
    return sorted(docs, key=lambda d: (d["system"], d["group"], d["component"]))


def save_diffusion(
    document: Any, settings: InterfacialSettings | None = None, *, overwrite: bool = False
) -> None:
    """Write a DiffusionDocument (e.g. from ``interfacial diffusion --save``) to the database.

    It joins the ``diffusion`` collection next to the MD-derived ones, so the Arrhenius builder
    fits it with the others of its system. A stored document of the same system, potential and
    temperature is replaced only with ``overwrite``.
    """
    settings = settings or get_settings()
    check_writable(settings)
    store = derived_store(DIFFUSION, "diffusion_id", settings)
    store.connect()
    try:
        if not overwrite:
            _refuse_stored_diffusion(store, document.diffusion_id)
        store.update([document.model_dump()], key="diffusion_id")
    finally:
        store.close()


def check_diffusion_unsaved(
    system: str,
    temperature: float,
    potential_sha256: str | None = None,
    settings: InterfacialSettings | None = None,
) -> None:
    """Refuse, before any analysis, a save that would replace a stored D* document.

    Documents are keyed by (system, potential, temperature): a second trajectory of the same
    system at the same temperature would silently replace the first one's result.
    """
    from interfacial.schemas.diffusion import DiffusionDocument

    settings = settings or get_settings()
    check_writable(settings)
    store = derived_store(DIFFUSION, "diffusion_id", settings)
    store.connect()
    try:
        _refuse_stored_diffusion(
            store, DiffusionDocument.make_id(system, potential_sha256, temperature)
        )
    finally:
        store.close()


def _refuse_stored_diffusion(store: Any, diffusion_id: str) -> None:
    found = store.query_one({"diffusion_id": diffusion_id}, properties=["system", "temperature"])
    if found is not None:
        raise InterfacialError(
            f"a D* of system {found['system']!r} at {found['temperature']:g} K is already "
            "stored; give another --system name, or --overwrite to replace it"
        )


def _newest_output(
    role: Role, system: str, settings: InterfacialSettings | None
) -> dict[str, Any] | None:
    """The newest task document of ``role`` for ``system`` with its data-store fields loaded.

    None when there is none or its job has no output (failed).
    """
    settings = settings or get_settings()
    check_writable(settings)
    store = get_job_store(settings)
    store.connect()
    try:
        for doc in store.query(
            role_filter(role, system=system), sort={"completed_at": -1}, load=True
        ):
            if not isinstance(doc.get("output"), dict):
                return None
            if role is not Role.MTP_FIT or _fit_of_a_finished_run(doc, store.docs_store):
                return doc
    finally:
        store.close()
    return None


def _fit_of_a_finished_run(fit: dict[str, Any], tasks: Any) -> bool:
    """Whether a fit may be used as ``store:SYSTEM``: not an unfinished learning run's.

    A fit of ``fit-mtp`` is its flow's last job. A fit inside a learn-potential flow (its
    outermost host also holds active-learning rounds) counts only once that flow finished, as
    the ``final_fit`` of its last round: a run killed after a fit but before its active learning
    ended must not replace the validated potential of an earlier complete run.
    """
    hosts = fit.get("hosts") or []
    if not hosts:
        return True
    rounds = list(
        tasks.query(
            {**role_filter(Role.ACTIVE_LEARNING), "hosts": hosts[-1]}, properties=["output"]
        )
    )
    if not rounds:
        return True
    sha = fit["output"].get("potential_sha256")
    return any(
        isinstance(r.get("output"), dict)
        and isinstance(r["output"].get("final_fit"), dict)
        and r["output"]["final_fit"].get("potential_sha256") == sha
        for r in rounds
    )


def load_potential(
    spec: str | Path,
    species_order: list[str] | None = None,
    settings: InterfacialSettings | None = None,
) -> Any:
    """A fitted MTP: ``store:SYSTEM`` (the newest fit of SYSTEM in the database) or a .mtp file.

    A .mtp file does not say which element each type is: ``species_order`` is then required.
    """
    from interfacial.mtp.potential import MTPPotential

    text = str(spec)
    if text.startswith("store:"):
        system = text.removeprefix("store:")
        doc = _newest_output(Role.MTP_FIT, system, settings)
        if doc is None:
            raise InterfacialError(
                f"no fitted potential for system {system!r} in the database: run "
                "`interfacial fit-mtp` first, or give a .mtp file with --species"
            )
        return MTPPotential.from_dict(doc["output"]["potential"])
    path = Path(text)
    if not path.is_file():
        raise InterfacialError(f"no such potential file {path} (or use store:SYSTEM)")
    if not species_order:
        raise InterfacialError(
            f"{path} does not say which element each MLIP type is: give --species, e.g. S,Li"
        )
    return MTPPotential.from_file(path, species_order)


def training_set(system: str, settings: InterfacialSettings | None = None) -> dict[str, Any] | None:
    """The training set of ``system``'s newest fit (.cfg text), or None if there is none.

    That is the set the potential ``store:SYSTEM`` was fitted on, with every configuration
    active learning added. Fits stored before fits kept their set fall back to the newest
    reference-MD training set (active learning may have added configurations since: grades
    against it are then slightly pessimistic, and a refit from it drops those labels).
    """
    fit = _newest_output(Role.MTP_FIT, system, settings)
    if fit is not None and fit["output"].get("training_cfg"):
        return {
            "cfg": fit["output"]["training_cfg"],
            "source": (
                f"training set of the newest fit of {system} "
                f"(potential {fit['output']['potential_sha256'][:12]}, job {fit['uuid']})"
            ),
        }
    doc = _newest_output(Role.TRAINING_SETS, system, settings)
    if doc is None:
        return None
    return {
        "cfg": doc["output"]["training_cfg"],
        "source": f"reference-MD training set of {system} (job {doc['uuid']})",
    }
