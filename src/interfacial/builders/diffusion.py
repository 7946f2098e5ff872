"""Tracer diffusivities and Arrhenius fits derived from stored transport MD documents.

DiffusionBuilder: transport MD task documents (role ``diffusion_md``, whose output carries the
compact MSD curves) -> the ``diffusion`` collection, one document per (system, potential,
temperature), D* refitted from the curves with :func:`~interfacial.diffusion.fit_diffusivities`
(fit window from the job's metadata, else the default rule).

ArrheniusBuilder: the ``diffusion`` collection -> the ``arrhenius`` collection, one document per
(system, potential, group, component). Documents analysed from files by ``interfacial diffusion
--save`` sit in the same collection and enter the fits like MD ones.

Only finished transport flows are built (see :mod:`interfacial.builders.completion`): an MD task
enters once its flow's Arrhenius summary job is stored (the summary takes every temperature's
output, so it runs only when the whole ladder finished; the flow is the summary's first host,
and the MD job lists it among its hosts). Among finished runs of one (system, potential,
temperature) the newest flow wins (``completed_at`` of its summary, stored on the document as
``flow_completed_at``), then the newest task. A document an earlier build derived from an
unfinished flow is withdrawn when no finished run replaces it; fits of a (system, potential)
left without documents are dropped.

Both are incremental and idempotent: targets carry a fingerprint of their sources and a group is
rebuilt only when its fingerprint changed.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator
from typing import Any

from maggma.core import Builder, Store

from interfacial.builders.completion import completed_at, finished_flows, flow_completion
from interfacial.builders.surface import latest
from interfacial.diffusion import arrhenius_documents, fit_diffusivities
from interfacial.schemas.diffusion import DEFAULT_COMPONENTS, DiffusionDocument, digest
from interfacial.schemas.roles import DiffusionMDKeys, Role, read_keys, role_filter

_STAMP = ["uuid", "index", "completed_at", "hosts", "metadata", "output.diffusion_id"]


def _task_fingerprint(task: dict[str, Any], flow_completed_at: str) -> str:
    keys = read_keys(task, DiffusionMDKeys)
    return digest(
        json.dumps(
            [
                task["uuid"],
                task.get("index", 1),
                str(task.get("completed_at")),
                keys.fit_window,
                flow_completed_at,
            ]
        )
    )


class DiffusionBuilder(Builder):
    """Build one DiffusionDocument per (system, potential, temperature) from MD tasks.

    Parameters
    ----------
    tasks : Store
        The JobStore's docs store.
    diffusion : Store
        Target (key ``diffusion_id``).
    query : dict, optional
        Extra filter on the task documents.

    """

    def __init__(
        self, tasks: Store, diffusion: Store, query: dict[str, Any] | None = None, **kwargs: Any
    ) -> None:
        self.tasks = tasks
        self.diffusion = diffusion
        self.query = query or {}
        super().__init__(sources=[tasks], targets=[diffusion], **kwargs)

    def ensure_indexes(self) -> None:
        """Index the key (montydb, the embedded store, has no indexes)."""
        with contextlib.suppress(NotImplementedError):
            self.diffusion.ensure_index("diffusion_id")

    def get_items(self) -> Iterator[dict[str, Any]]:
        """Yield the newest finished task per diffusion_id whose fingerprint changed."""
        self.ensure_indexes()
        tasks = latest(
            [
                d
                for d in self.tasks.query(
                    {**role_filter(Role.DIFFUSION_MD), **self.query}, properties=_STAMP
                )
                if isinstance(d.get("output"), dict) and d["output"].get("diffusion_id")
            ]
        )
        flows = finished_flows(self.tasks, Role.ARRHENIUS_SUMMARY)
        newest: dict[str, tuple[tuple[str, str], dict[str, Any]]] = {}
        unfinished: dict[str, set[str]] = {}
        for task in tasks:
            read_keys(task, DiffusionMDKeys)  # a malformed document fails, finished or not
            key = task["output"]["diffusion_id"]
            flow_done = flow_completion(task, flows)
            if flow_done is None:
                unfinished.setdefault(key, set()).add(task["uuid"])
                continue
            rank = (flow_done, completed_at(task))
            if key not in newest or rank > newest[key][0]:
                newest[key] = (rank, task)
        for key in sorted(set(unfinished) - set(newest)):
            built = self.diffusion.query_one({"diffusion_id": key}, properties=["task_uuid"])
            if built is not None and built.get("task_uuid") in unfinished[key]:
                yield {"diffusion_id": key, "withdraw": True}
        for key in sorted(newest):
            (flow_done, _), task = newest[key]
            fp = _task_fingerprint(task, flow_done)
            built = self.diffusion.query_one(
                {"diffusion_id": key}, properties=["source_fingerprint"]
            )
            if built is not None and built.get("source_fingerprint") == fp:
                continue
            yield {
                "uuid": task["uuid"],
                "index": task.get("index", 1),
                "fingerprint": fp,
                "flow_completed_at": flow_done,
            }

    def process_item(self, item: dict[str, Any]) -> dict[str, Any]:
        """Refit D* of every group and component from the task's stored MSD curves."""
        if item.get("withdraw"):
            return item
        task = self.tasks.query_one({"uuid": item["uuid"], "index": item["index"]})
        output = {k: v for k, v in task["output"].items() if not k.startswith("@")}
        doc = DiffusionDocument.model_validate(output)
        window = read_keys(task, DiffusionMDKeys).fit_window
        # Refit the components the job fitted (a user may have asked for x/y/z too).
        components = sorted({r.component for r in doc.diffusivities}) or DEFAULT_COMPONENTS
        rule, records = fit_diffusivities(doc.msd, window, components, hop_length=doc.hop_length)
        rebuilt = doc.model_copy(
            update={
                "fit_window_rule": rule,
                "diffusivities": records,
                "task_uuid": task["uuid"],
                "source_fingerprint": item["fingerprint"],
            }
        )
        return {**rebuilt.model_dump(), "flow_completed_at": item["flow_completed_at"]}

    def update_targets(self, items: list[dict[str, Any]]) -> None:
        """Write the rebuilt documents; remove the withdrawn ones."""
        docs = [i for i in items if not i.get("withdraw")]
        if docs:
            self.diffusion.update(docs, key="diffusion_id")
        withdrawn = [i["diffusion_id"] for i in items if i.get("withdraw")]
        if withdrawn:
            self.diffusion.remove_docs({"diffusion_id": {"$in": withdrawn}})


class ArrheniusBuilder(Builder):
    """Build one ArrheniusDocument per (system, potential, group, component).

    Parameters
    ----------
    diffusion : Store
        The ``diffusion`` collection (key ``diffusion_id``).
    arrhenius : Store
        Target (key ``arrhenius_id``).

    """

    def __init__(self, diffusion: Store, arrhenius: Store, **kwargs: Any) -> None:
        self.diffusion = diffusion
        self.arrhenius = arrhenius
        super().__init__(sources=[diffusion], targets=[arrhenius], **kwargs)

    def ensure_indexes(self) -> None:
        """Index the keys (montydb, the embedded store, has no indexes)."""
        for key in ("arrhenius_id", "system"):
            with contextlib.suppress(NotImplementedError):
                self.arrhenius.ensure_index(key)

    @staticmethod
    def _fingerprint(stamps: list[dict[str, Any]]) -> str:
        return digest(
            json.dumps(
                sorted(
                    (d["diffusion_id"], str(d.get("last_updated")), d.get("source_fingerprint"))
                    for d in stamps
                )
            )
        )

    def get_items(self) -> Iterator[dict[str, Any]]:
        """Yield each (system, potential) whose set of diffusion documents changed."""
        self.ensure_indexes()
        groups: dict[tuple[str, str | None], list[dict[str, Any]]] = {}
        for d in self.diffusion.query(
            {},
            properties=[
                "diffusion_id",
                "system",
                "potential_sha256",
                "last_updated",
                "source_fingerprint",
            ],
        ):
            groups.setdefault((d["system"], d.get("potential_sha256")), []).append(d)
        for (system, pot), stamps in sorted(
            groups.items(), key=lambda kv: (kv[0][0], str(kv[0][1]))
        ):
            fp = self._fingerprint(stamps)
            built = list(
                self.arrhenius.query(
                    {"system": system, "potential_sha256": pot}, properties=["source_fingerprint"]
                )
            )
            if built and all(b.get("source_fingerprint") == fp for b in built):
                continue
            yield {"system": system, "potential_sha256": pot, "fingerprint": fp}
        # Fits whose diffusion documents were all withdrawn: drop them.
        orphans = {
            (d["system"], d.get("potential_sha256"))
            for d in self.arrhenius.query({}, properties=["system", "potential_sha256"])
        } - set(groups)
        for system, pot in sorted(orphans, key=lambda g: (g[0], str(g[1]))):
            yield {"system": system, "potential_sha256": pot, "fingerprint": None}

    def process_item(self, item: dict[str, Any]) -> dict[str, Any]:
        """Fit Arrhenius laws for every group and component of one (system, potential)."""
        docs = [
            DiffusionDocument.model_validate({k: v for k, v in d.items() if k != "_id"})
            for d in self.diffusion.query(
                {"system": item["system"], "potential_sha256": item["potential_sha256"]}
            )
        ]
        fits = [
            a.model_copy(update={"source_fingerprint": item["fingerprint"]}).model_dump()
            for a in arrhenius_documents(docs)
        ]
        return {**item, "docs": fits}

    def update_targets(self, items: list[dict[str, Any]]) -> None:
        """Write rebuilt fits; drop fits whose group or component disappeared."""
        for item in items:
            ids = [d["arrhenius_id"] for d in item["docs"]]
            if item["docs"]:
                self.arrhenius.update(item["docs"], key="arrhenius_id")
            self.arrhenius.remove_docs(
                {
                    "system": item["system"],
                    "potential_sha256": item["potential_sha256"],
                    "arrhenius_id": {"$nin": ids},
                }
            )
