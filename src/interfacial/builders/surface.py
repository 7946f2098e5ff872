"""Surface energies and Wulff shapes derived from stored bulk and slab task documents.

Reads only what the flow's engine jobs stored (bulk relax, slab enumeration, slab relaxations),
never the flow's own gamma documents, and recomputes gamma with the same pure functions the flow
uses. One item per bulk relaxation (a material under one calculator).

Only finished flows are built (see :mod:`interfacial.builders.completion`): a group is built once
the flow's Wulff job (role ``surface_material``, same ``bulk_uuid``) is stored, which runs only
after every thickness chain of the flow finished. The documents an earlier build derived from a
flow that did not finish are withdrawn. Every derived document carries ``flow_completed_at``
(``completed_at`` of the Wulff job), by which queries tell the newest run.

Incremental and idempotent: every derived document carries a fingerprint of the source documents
of its group (uuid, index, completed_at and energy of each, the Wulff job's included); a group is
rebuilt only when that fingerprint changes (a slab added, rerun or updated), so a second run does
nothing. This avoids maggma's MapBuilder/GroupBuilder timestamp logic, which misses updated
sources or redoes everything when jobflow's ``completed_at`` strings are compared with datetimes.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
from collections import defaultdict
from collections.abc import Iterator
from typing import Any

from maggma.core import Builder, Store

from interfacial.builders.completion import completed_at, terminal_documents
from interfacial.schemas.roles import Role, SlabKeys, read_keys, role_filter, stored_role
from interfacial.schemas.surface import (
    FacetReport,
    SurfaceEnergyDocument,
    SurfaceMaterialDocument,
    ThicknessPoint,
)


def latest(docs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Keep the highest ``index`` per uuid (a replaced jobflow job leaves several)."""
    best: dict[str, dict[str, Any]] = {}
    for doc in docs:
        if doc["uuid"] not in best or doc.get("index", 1) > best[doc["uuid"]].get("index", 1):
            best[doc["uuid"]] = doc
    return list(best.values())


def fingerprint(docs: list[dict[str, Any]]) -> str:
    """Hash of (uuid, index, completed_at, energy) of the source documents.

    The energy is included so that a document corrected in place (same completed_at) still
    triggers a rebuild.
    """
    keys = sorted(
        (
            d["uuid"],
            d.get("index", 1),
            str(d.get("completed_at")),
            repr(((d.get("output") or {}).get("output") or {}).get("energy")),
        )
        for d in docs
    )
    return hashlib.sha256(json.dumps(keys).encode()).hexdigest()[:20]


def _payload(output: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in output.items() if not k.startswith("@")}


class SurfaceBuilder(Builder):
    """Build per-termination surface documents and per-material Wulff documents.

    Parameters
    ----------
    tasks : Store
        The JobStore's docs store (jobflow job outputs).
    surfaces : Store
        Target of :class:`SurfaceEnergyDocument` (key ``surface_id``).
    materials : Store
        Target of :class:`SurfaceMaterialDocument` (key ``bulk_uuid``).
    query : dict, optional
        Extra filter on the bulk task documents (e.g. ``{"metadata.interfacial.material": "Li"}``).

    """

    def __init__(
        self,
        tasks: Store,
        surfaces: Store,
        materials: Store,
        query: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        self.tasks = tasks
        self.surfaces = surfaces
        self.materials = materials
        self.query = query or {}
        super().__init__(sources=[tasks], targets=[surfaces, materials], **kwargs)

    def ensure_indexes(self) -> None:
        """Index the keys the builder looks up by (montydb, the embedded store, has no indexes)."""
        for store, key in (
            (self.surfaces, "surface_id"),
            (self.surfaces, "bulk_uuid"),
            (self.materials, "bulk_uuid"),
        ):
            with contextlib.suppress(NotImplementedError):
                store.ensure_index(key)

    def _group_sources(self, bulk_uuid: str, properties: list[str] | None) -> list[dict[str, Any]]:
        criteria = {
            "$or": [
                {"uuid": bulk_uuid},
                role_filter([Role.FACETS, Role.SLAB], bulk_uuid=bulk_uuid),
            ]
        }
        return latest(list(self.tasks.query(criteria, properties=properties)))

    def _built(self, bulk_uuid: str) -> bool:
        return bool(
            self.surfaces.count({"bulk_uuid": bulk_uuid})
            or self.materials.count({"bulk_uuid": bulk_uuid})
        )

    def get_items(self) -> Iterator[dict[str, Any]]:
        """Yield one item per bulk relaxation of a finished flow whose sources changed.

        A bulk whose flow has not finished (no Wulff job stored) yields a withdrawal item when
        an earlier build derived documents from it, and nothing otherwise.
        """
        self.ensure_indexes()
        stamp = ["uuid", "index", "completed_at"]
        bulks = latest(
            list(self.tasks.query({**role_filter(Role.BULK), **self.query}, properties=stamp))
        )
        finished = terminal_documents(
            self.tasks, Role.SURFACE_MATERIAL, "bulk_uuid", [b["uuid"] for b in bulks]
        )
        for bulk in bulks:
            terminal = finished.get(bulk["uuid"])
            if terminal is None:
                if self._built(bulk["uuid"]):
                    yield {"bulk_uuid": bulk["uuid"], "withdraw": True}
                continue  # the flow has not finished (yet, or ever: killed, failed)
            sources = self._group_sources(
                bulk["uuid"], [*stamp, "metadata", "output.output.energy"]
            )
            roles = {stored_role(d) for d in sources}
            if Role.FACETS not in roles:
                continue  # the flow has not enumerated the slabs yet
            fp = fingerprint([*sources, terminal])
            built = self.surfaces.query_one(
                {"bulk_uuid": bulk["uuid"]}, properties=["source_fingerprint"]
            )
            if built is not None and built.get("source_fingerprint") == fp:
                continue
            yield {
                "bulk_uuid": bulk["uuid"],
                "fingerprint": fp,
                "flow_completed_at": completed_at(terminal),
            }

    def process_item(self, item: dict[str, Any]) -> dict[str, Any]:
        """Recompute gamma of every termination and the Wulff shape of one material."""
        from pymatgen.core import Lattice, Structure

        if item.get("withdraw"):
            return item
        sources = self._group_sources(item["bulk_uuid"], None)
        by_role: dict[Role, list[dict[str, Any]]] = defaultdict(list)
        for doc in sources:
            by_role[read_keys(doc).ROLE].append(doc)  # every source validated
        bulk = by_role[Role.BULK][0]["output"]
        bulk_structure = Structure.from_dict(bulk["structure"])
        bulk_energy_per_atom = bulk["output"]["energy"] / len(bulk_structure)
        report = FacetReport.model_validate(_payload(by_role[Role.FACETS][0]["output"]))

        series: dict[tuple[str, str], list[ThicknessPoint]] = defaultdict(list)
        keys: dict[tuple[str, str], SlabKeys] = {}
        for slab in by_role[Role.SLAB]:
            slab_keys = read_keys(slab, SlabKeys)
            group = (json.dumps(slab_keys.miller_index), slab_keys.termination)
            series[group].append(
                ThicknessPoint.from_slab(
                    slab["output"]["output"]["energy"],
                    slab["uuid"],
                    slab_keys,
                    bulk_energy_per_atom,
                )
            )
            keys[group] = slab_keys
        surfaces = [
            SurfaceEnergyDocument.from_series(
                points, keys[group], bulk_energy_per_atom, item["fingerprint"]
            )
            for group, points in series.items()
        ]
        surfaces += [
            SurfaceEnergyDocument.without_slab(report, facet, item["fingerprint"])
            for facet in report.facets
            if facet.tasker_type == 3
        ]
        material = SurfaceMaterialDocument.from_surfaces(
            Lattice(bulk_structure.lattice.matrix), report, surfaces, item["fingerprint"]
        )
        stamp = {"flow_completed_at": item["flow_completed_at"]}
        return {
            "bulk_uuid": item["bulk_uuid"],
            "surfaces": [{**s.model_dump(), **stamp} for s in surfaces],
            "material": None if material is None else {**material.model_dump(), **stamp},
        }

    def update_targets(self, items: list[dict[str, Any]]) -> None:
        """Write the rebuilt groups; drop documents of terminations no longer in the sources.

        A withdrawal item removes every document of its bulk (its flow did not finish).
        """
        for item in items:
            if item.get("withdraw"):
                self.surfaces.remove_docs({"bulk_uuid": item["bulk_uuid"]})
                self.materials.remove_docs({"bulk_uuid": item["bulk_uuid"]})
                continue
            ids = [s["surface_id"] for s in item["surfaces"]]
            if item["surfaces"]:
                self.surfaces.update(item["surfaces"], key="surface_id")
            self.surfaces.remove_docs({"bulk_uuid": item["bulk_uuid"], "surface_id": {"$nin": ids}})
            if item["material"] is not None:
                self.materials.update([item["material"]], key="bulk_uuid")
