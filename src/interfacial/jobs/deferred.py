"""Flows made by a job, once the structure they start from exists.

A potential's reference MD and a transport ladder cut their supercell and seed their vacancies
from the cell itself, so when that cell is the output of an earlier job of the same workflow
(e.g. the lowest relaxed model of an interface flow submitted together with them), their flow
can only be made at run time: one job makes it and replaces itself with it. The jobs it makes are
routed by kind (:func:`interfacial.routing.route_created`), not all to its own queue.
"""

from __future__ import annotations

from typing import Any

from jobflow import Flow, Maker, Response, job

from interfacial.routing import route_created, routes_its_children


def deferred_flow(maker: Maker, structure: Any, name: str, *args: Any, **kwargs: Any) -> Flow:
    """A one-job flow that makes and runs ``maker``'s flow once ``structure`` exists.

    ``structure`` is an output reference; the job runs ``maker.make(structure, *args,
    **kwargs)`` and is named ``"<name> on its structure"``, the flow ``name``.
    """
    deferred = make_on_structure(structure, maker, *args, **kwargs)
    deferred.name = f"{name} on its structure"
    routes_its_children(deferred)  # reference MD, fits, MD: each to its kind's queue
    return Flow([deferred], output=deferred.output, name=name)


@job
def make_on_structure(structure: Any, maker: Maker, *args: Any, **kwargs: Any) -> Response:
    """Make ``maker``'s flow on ``structure`` (a Structure or its dict) and run it in place."""
    import warnings

    from pymatgen.core import Structure

    cell = structure if isinstance(structure, Structure) else Structure.from_dict(structure)
    with warnings.catch_warnings():
        # Cells with charge-compensated vacancies carry a charge on purpose.
        warnings.filterwarnings("ignore", message="Structure charge .* is set to be not equal")
        flow = maker.make(cell, *args, **kwargs)
    route_created(flow.jobs if isinstance(flow, Flow) else flow)
    return Response(replace=flow)
