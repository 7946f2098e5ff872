"""Which stored job documents a builder may promote: only those of flows that finished.

An interrupted run (a killed ``interfacial surfaces``, a FIZZLED Firework, a job that raised)
leaves in the docs store the documents of every job it finished, and nothing else. Those
documents are valid on their own (a slab relaxation is a slab relaxation) but their group is
not: a thickness chain stopped before convergence gives a gamma that is not converged, a
transport ladder stopped half way gives half the temperatures. Results are therefore
all-or-nothing per flow: a builder derives documents from a flow's jobs only once the flow
finished, and withdraws what an earlier build derived from a flow that did not.

What "finished" means
---------------------
Each flow ends with a summary job that takes (directly, or through the thickness chains it
replaces) the output of every other job of the flow:

================  =============================  =========================================
flow              terminal job (role)            linked to its group by
================  =============================  =========================================
surface energies  Wulff shape (surface_material)  ``bulk_uuid`` (the flow's bulk relaxation)
interface         interface_energetics            ``interface_id`` (one per candidate)
transport         arrhenius_summary               the transport flow's uuid, the first of the
                                                  summary's ``hosts``, among the MD job's hosts
================  =============================  =========================================

A flow finished when its terminal job's document exists. This holds on every manager:
jobflow writes a job's document only after the job returned; ``run_locally`` skips every job
whose parent failed (jobflow's default ``on_missing_references="error"``), and FireWorks leaves
the children of a FIZZLED Firework WAITING, so the terminal job of a flow with one failed or
unfinished job never runs. A killed process writes nothing more (the embedded store commits each
document in its own sqlite transaction, so a document is either whole or absent).

Criteria not used, and why: ``hosts`` alone tells which flow a job belongs to, not whether the
flow finished (jobflow stores no flow document); counting documents fails because flows grow at
run time (one thickness chain per termination, one more step per unconverged thickness); the
``converged`` flag of gamma is a physical result (a complete run may stop at ``max_thickness``
unconverged) and says nothing of the other terminations of the run.

Which run is newest
-------------------
Every derived document carries ``flow_completed_at``: the ``completed_at`` of its flow's terminal
job (jobflow's ISO string, written when the job finished). "Newest" (the query's
``latest_only``, the DiffusionBuilder's choice among runs of one temperature) ranks by it, never
by ``last_updated``, which only says when a builder last wrote the derived document: a build run
after a rerun must not make the documents of an older run look newer.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from maggma.core import Store

from interfacial.schemas.roles import Role, read_keys, role_filter

#: Fields of a terminal job's document that the builders read (never its output).
TERMINAL_STAMP = ["uuid", "index", "completed_at", "hosts", "metadata"]


def completed_at(doc: dict[str, Any] | None) -> str:
    """The ``completed_at`` of a job document as a sortable string ('' when there is none)."""
    return "" if doc is None or doc.get("completed_at") is None else str(doc["completed_at"])


def terminal_documents(
    tasks: Store, role: Role, key: str, values: Iterable[str] | None = None
) -> dict[str, dict[str, Any]]:
    """The terminal job document of each finished group, by the group's key.

    Parameters
    ----------
    tasks : Store
        The JobStore's docs store.
    role : Role
        The role of the flow's terminal job (e.g. ``Role.SURFACE_MATERIAL``).
    key : str
        The key of that role linking it to its group (e.g. ``"bulk_uuid"``).
    values : iterable of str, optional
        Only these groups (all when None).

    Returns
    -------
    dict
        Group key value -> the terminal document (highest ``index``; only the fields of
        :data:`TERMINAL_STAMP`). A group missing here has not finished.

    """
    criteria = role_filter(role, **({} if values is None else {key: {"$in": sorted(set(values))}}))
    found: dict[str, dict[str, Any]] = {}
    for doc in tasks.query(criteria, properties=TERMINAL_STAMP):
        value = getattr(read_keys(doc), key)
        if value not in found or doc.get("index", 1) > found[value].get("index", 1):
            found[value] = doc
    return found


def finished_flows(tasks: Store, role: Role) -> dict[str, str]:
    """Flows whose terminal job of ``role`` is stored: flow uuid -> its ``completed_at``.

    The flow's uuid is the first of the terminal job's ``hosts`` (jobflow lists the flows
    holding a job innermost first), used where no key of the role names the group (transport).
    """
    flows: dict[str, str] = {}
    for doc in tasks.query(role_filter(role), properties=TERMINAL_STAMP):
        read_keys(doc)  # a malformed terminal document fails here, naming its uuid
        hosts = doc.get("hosts") or []
        if hosts:
            flows[hosts[0]] = max(flows.get(hosts[0], ""), completed_at(doc))
    return flows


def flow_completion(doc: dict[str, Any], flows: dict[str, str]) -> str | None:
    """``completed_at`` of the finished flow holding job ``doc``, or None if none finished."""
    stamps = [flows[h] for h in doc.get("hosts") or [] if h in flows]
    return max(stamps) if stamps else None
