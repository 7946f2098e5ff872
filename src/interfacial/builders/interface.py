"""Interface energetics derived from stored task documents and the derived surface energies.

For every interface_id: the relaxed models (role 'interface'), the two strained bulks (role
'strained_bulk'), the two relaxed bulks (by uuid) and gamma of the terminations at the interface
(the ``surfaces`` collection, itself derived from slab task documents by the SurfaceBuilder, so run
that first). E_f, sigma and both W are recomputed with the pure functions the flow uses; no job's
own analysis is read.

Only finished flows are built (see :mod:`interfacial.builders.completion`): an interface_id is
built once its flow's energetics job (role ``interface_energetics``, same interface_id) is stored;
that job takes every model relaxation, both strained bulks and both surface flows as input, so it
runs only when all of them finished. Documents an earlier build derived from an unfinished flow
are withdrawn. Every document carries ``flow_completed_at`` (``completed_at`` of the energetics
job), by which queries tell the newest run.

Incremental and idempotent like the SurfaceBuilder: each document carries a fingerprint of its
group's sources (tasks: uuid, index, completed_at, energy, the energetics job's included;
surfaces: id and gamma); only groups whose fingerprint changed are rebuilt.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
from collections.abc import Iterator
from typing import Any

from maggma.core import Builder, Store

from interfacial.builders.completion import TERMINAL_STAMP, completed_at
from interfacial.builders.surface import fingerprint, latest
from interfacial.errors import InterfacialError
from interfacial.schemas.interface import InterfaceDocument, InterfaceEnergies, mark_lowest
from interfacial.schemas.roles import (
    InterfaceKeys,
    Role,
    StrainedBulkKeys,
    read_keys,
    role_filter,
    stored_role,
)
from interfacial.schemas.surface import SurfaceEnergyDocument

_STAMP = ["uuid", "index", "completed_at", "metadata", "output.output.energy"]
#: Job metadata copied into the documents (the threshold is passed on separately).
_DOCUMENT_KEYS = set(InterfaceDocument.model_fields) - {"adhesion_threshold"}


def _energy(task: dict[str, Any]) -> float:
    return float(task["output"]["output"]["energy"])


class InterfaceBuilder(Builder):
    """Build one :class:`InterfaceDocument` per relaxed model.

    Parameters
    ----------
    tasks : Store
        The JobStore's docs store.
    surfaces : Store
        Derived surface energies (key ``surface_id``), built by the SurfaceBuilder.
    interfaces : Store
        Target (key ``model_id``).
    query : dict, optional
        Extra filter on the interface task documents.

    """

    def __init__(
        self,
        tasks: Store,
        surfaces: Store,
        interfaces: Store,
        query: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        self.tasks = tasks
        self.surfaces = surfaces
        self.interfaces = interfaces
        self.query = query or {}
        super().__init__(sources=[tasks, surfaces], targets=[interfaces], **kwargs)

    def ensure_indexes(self) -> None:
        """Index the lookup keys (montydb, the embedded store, has no indexes)."""
        for key in ("model_id", "interface_id"):
            with contextlib.suppress(NotImplementedError):
                self.interfaces.ensure_index(key)

    def _sources(self, interface_id: str, properties: list[str] | None) -> dict[str, Any]:
        """Every source document of one interface_id, with the gammas its models need."""
        group = latest(
            list(
                self.tasks.query(
                    role_filter([Role.INTERFACE, Role.STRAINED_BULK], interface_id=interface_id),
                    properties=properties,
                )
            )
        )
        terminals = latest(
            list(
                self.tasks.query(
                    role_filter(Role.INTERFACE_ENERGETICS, interface_id=interface_id),
                    properties=TERMINAL_STAMP,
                )
            )
        )
        models = [d for d in group if stored_role(d) is Role.INTERFACE]
        strained = {
            read_keys(d, StrainedBulkKeys).side: d
            for d in group
            if stored_role(d) is Role.STRAINED_BULK
        }
        first = read_keys(models[0], InterfaceKeys) if models else None
        bulk_ids = [first.metal_bulk_uuid, first.compound_bulk_uuid] if first else []
        bulks = {
            d["uuid"]: d
            for d in latest(list(self.tasks.query({"uuid": {"$in": bulk_ids}}, properties=None)))
        }
        surface_ids = set()
        for model in models:
            keys = read_keys(model, InterfaceKeys)
            surface_ids.add(
                SurfaceEnergyDocument.make_id(
                    keys.metal_bulk_uuid, keys.metal_miller, keys.metal_termination
                )
            )
            surface_ids.add(
                SurfaceEnergyDocument.make_id(
                    keys.compound_bulk_uuid, keys.compound_miller, keys.compound_termination
                )
            )
        surfaces = {
            d["surface_id"]: d
            for d in self.surfaces.query(
                {"surface_id": {"$in": sorted(surface_ids)}},
                properties=["surface_id", "surface_energy"],
            )
        }
        return {
            "models": models,
            "strained": strained,
            "bulks": bulks,
            "surfaces": surfaces,
            "terminal": terminals[0] if terminals else None,
            "complete": bool(terminals)
            and len(strained) == 2
            and len(bulks) == 2
            and surface_ids <= {k for k, v in surfaces.items() if v["surface_energy"] is not None},
        }

    @staticmethod
    def _fingerprint(sources: dict[str, Any]) -> str:
        tasks = [
            *sources["models"],
            *sources["strained"].values(),
            *sources["bulks"].values(),
            *([sources["terminal"]] if sources["terminal"] else []),
        ]
        gammas = sorted((k, repr(v["surface_energy"])) for k, v in sources["surfaces"].items())
        text = fingerprint(tasks) + json.dumps(gammas)
        return hashlib.sha256(text.encode()).hexdigest()[:20]

    def get_items(self) -> Iterator[dict[str, Any]]:
        """Yield one item per interface_id whose sources are complete and changed."""
        self.ensure_indexes()
        ids = sorted(
            {
                read_keys(d, InterfaceKeys).interface_id
                for d in self.tasks.query(
                    {**role_filter(Role.INTERFACE), **self.query}, properties=["uuid", "metadata"]
                )
            }
        )
        for interface_id in ids:
            sources = self._sources(interface_id, _STAMP)
            if sources["terminal"] is None and self.interfaces.count(
                {"interface_id": interface_id}
            ):
                # Built from a flow that did not finish (by an earlier version): withdraw.
                yield {"interface_id": interface_id, "withdraw": True}
                continue
            if not sources["complete"]:
                continue  # the flow has not finished, or its surface energies are not built
            fp = self._fingerprint(sources)
            built = self.interfaces.query_one(
                {"interface_id": interface_id}, properties=["source_fingerprint"]
            )
            if built is not None and built.get("source_fingerprint") == fp:
                continue
            yield {
                "interface_id": interface_id,
                "fingerprint": fp,
                "flow_completed_at": completed_at(sources["terminal"]),
            }

    def process_item(self, item: dict[str, Any]) -> dict[str, Any]:
        """Recompute the energetics of every model of one interface_id."""
        from pymatgen.core import Structure

        if item.get("withdraw"):
            return {"interface_id": item["interface_id"], "docs": []}
        sources = self._sources(item["interface_id"], None)
        strained = sources["strained"]
        docs = []
        for model in sources["models"]:
            keys = read_keys(model, InterfaceKeys)
            metal = sources["bulks"][keys.metal_bulk_uuid]["output"]
            compound = sources["bulks"][keys.compound_bulk_uuid]["output"]
            compound_structure = Structure.from_dict(compound["structure"])
            _, compound_units = compound_structure.composition.get_reduced_composition_and_factor()
            metal_id = SurfaceEnergyDocument.make_id(
                keys.metal_bulk_uuid, keys.metal_miller, keys.metal_termination
            )
            compound_id = SurfaceEnergyDocument.make_id(
                keys.compound_bulk_uuid, keys.compound_miller, keys.compound_termination
            )
            energies = InterfaceEnergies(
                interface_energy=_energy(model),
                n_metal_atoms=keys.n_metal_atoms,
                n_compound_formula_units=keys.n_compound_formula_units,
                metal_energy_per_atom=metal["output"]["energy"] / len(metal["structure"]["sites"]),
                compound_energy_per_formula_unit=compound["output"]["energy"] / compound_units,
                strained_metal_energy_per_atom=_energy(strained["metal"])
                / read_keys(strained["metal"], StrainedBulkKeys).n_units,
                strained_compound_energy_per_formula_unit=_energy(strained["compound"])
                / read_keys(strained["compound"], StrainedBulkKeys).n_units,
                area=keys.area,
                gamma_metal=sources["surfaces"][metal_id]["surface_energy"],
                gamma_compound=sources["surfaces"][compound_id]["surface_energy"],
            )
            provenance = {
                "interface_uuid": model["uuid"],
                "strained_metal_uuid": strained["metal"]["uuid"],
                "strained_compound_uuid": strained["compound"]["uuid"],
                "metal_surface_id": metal_id,
                "compound_surface_id": compound_id,
                "source_fingerprint": item["fingerprint"],
            }
            fields = {k: v for k, v in keys.model_dump().items() if k in _DOCUMENT_KEYS}
            threshold = keys.adhesion_threshold
            doc = InterfaceDocument.from_energies(
                energies,
                {**fields, **provenance},
                **({"adhesion_threshold": threshold} if threshold is not None else {}),
            )
            docs.append(doc)
        if not docs:
            raise InterfacialError(f"interface {item['interface_id']} has no relaxed model")
        return {
            "interface_id": item["interface_id"],
            "docs": [
                {**d.model_dump(), "flow_completed_at": item["flow_completed_at"]}
                for d in mark_lowest(docs)
            ],
        }

    def update_targets(self, items: list[dict[str, Any]]) -> None:
        """Write rebuilt groups; drop models no longer in the sources (all, on withdrawal)."""
        for item in items:
            ids = [d["model_id"] for d in item["docs"]]
            if item["docs"]:
                self.interfaces.update(item["docs"], key="model_id")
            self.interfaces.remove_docs(
                {"interface_id": item["interface_id"], "model_id": {"$nin": ids}}
            )
