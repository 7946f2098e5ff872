"""Screening documents derived from the screens' summary jobs and the derived interfaces.

One document per finished screen (the summary job, role ``screening``, is the flow's terminal
job: see :mod:`interfacial.builders.completion`), keyed by that job's uuid (``run_uuid``).
Each candidate's tier results are refreshed from the derived ``interfaces`` collection (built
from the model relaxations by the InterfaceBuilder, so run that first): a rebuilt interface
updates the screen. Ranks, Spearman, dominant and recommended interfaces are then recomputed
with the functions the summary job uses. A tier result whose interface is not (or not yet) in
the collection keeps the summary job's value.

Incremental and idempotent: each document carries a fingerprint of its sources (the summary
job's stamp, and the interface documents' own fingerprints); only changed screens are rebuilt.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from typing import Any

from maggma.core import Builder, Store

from interfacial.builders.completion import TERMINAL_STAMP, completed_at
from interfacial.builders.surface import latest
from interfacial.jobs.screening import finish_document, tier_result_from_models
from interfacial.schemas.roles import Role, role_filter
from interfacial.schemas.screening import TIERS, ScreeningDocument


def _interface_ids(output: dict[str, Any]) -> list[str]:
    ids = set()
    for candidate in output.get("candidates") or []:
        for tier in TIERS:
            result = candidate.get(tier)
            if isinstance(result, dict) and result.get("interface_id"):
                ids.add(result["interface_id"])
    return sorted(ids)


class ScreeningBuilder(Builder):
    """Build one :class:`ScreeningDocument` per finished screen.

    Parameters
    ----------
    tasks : Store
        The JobStore's docs store.
    interfaces : Store
        Derived interface documents (key ``model_id``), built by the InterfaceBuilder.
    screening : Store
        Target (key ``run_uuid``: the summary job's uuid).

    """

    def __init__(self, tasks: Store, interfaces: Store, screening: Store, **kwargs: Any) -> None:
        self.tasks = tasks
        self.interfaces = interfaces
        self.screening = screening
        super().__init__(sources=[tasks, interfaces], targets=[screening], **kwargs)

    def _fingerprint(self, summary: dict[str, Any], ids: list[str]) -> str:
        stamps = sorted(
            (d["model_id"], str(d.get("source_fingerprint")))
            for d in self.interfaces.query(
                {"interface_id": {"$in": ids}}, properties=["model_id", "source_fingerprint"]
            )
        )
        text = json.dumps(
            [summary["uuid"], summary.get("index", 1), str(summary.get("completed_at")), stamps]
        )
        return hashlib.sha256(text.encode()).hexdigest()[:20]

    def get_items(self) -> Iterator[dict[str, Any]]:
        """Yield each finished screen whose sources changed since it was built."""
        summaries = latest(
            [
                d
                for d in self.tasks.query(
                    role_filter(Role.SCREENING),
                    properties=[*TERMINAL_STAMP, "output.candidates"],
                )
                if isinstance(d.get("output"), dict)
            ]
        )
        for summary in summaries:
            ids = _interface_ids(summary["output"])
            fp = self._fingerprint(summary, ids)
            built = self.screening.query_one(
                {"run_uuid": summary["uuid"]}, properties=["source_fingerprint"]
            )
            if built is not None and built.get("source_fingerprint") == fp:
                continue
            yield {
                "run_uuid": summary["uuid"],
                "index": summary.get("index", 1),
                "fingerprint": fp,
                "flow_completed_at": completed_at(summary),
            }

    def process_item(self, item: dict[str, Any]) -> dict[str, Any]:
        """The summary's document with its tier results refreshed from the interfaces."""
        task = self.tasks.query_one(
            {"uuid": item["run_uuid"], "index": item["index"]}, properties=["output"]
        )
        output = {k: v for k, v in task["output"].items() if not k.startswith("@")}
        doc = ScreeningDocument.model_validate(output)
        for candidate in doc.candidates:
            for tier in TIERS:
                result = getattr(candidate, tier)
                if result is None:
                    continue
                models = list(
                    self.interfaces.query({"interface_id": result.interface_id}, properties=None)
                )
                fresh = tier_result_from_models(models, tier, reused=result.reused)
                if fresh is not None:
                    setattr(candidate, tier, fresh)
        doc = finish_document(doc)
        doc.source_fingerprint = item["fingerprint"]
        # jobflow's completed_at string, as every derived document keeps it (sortable).
        stamp = {"flow_completed_at": item["flow_completed_at"] or None}
        return {**doc.model_dump(), **stamp, "run_uuid": item["run_uuid"]}

    def update_targets(self, items: list[dict[str, Any]]) -> None:
        """Write the rebuilt screens."""
        if items:
            self.screening.update(items, key="run_uuid")
