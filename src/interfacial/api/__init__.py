"""The Python API behind the command line: run flows, build, query, report.

Every function validates its input completely before it opens a store, so bad input writes
nothing. One module per responsibility:

- :mod:`~interfacial.api.surfaces`: the surface-energy flow, run here;
- :mod:`~interfacial.api.interfaces`: lattice matching and the interface-energetics flow;
- :mod:`~interfacial.api.potentials`: learning an MTP here, fitting one on labelled sets;
- :mod:`~interfacial.api.transport`: transport MD, D* of trajectories, stored D* and Ea;
- :mod:`~interfacial.api.results`: the builders, the queries, stored potentials and sets;
- :mod:`~interfacial.api.report`: the figures of the stored results.

Import from here (``from interfacial.api import run_surfaces``): the functions ``transport``
and ``report`` share their names with their modules, so ``interfacial.api.transport`` and
``interfacial.api.report`` are the functions.
"""

from interfacial.api.interfaces import interface_flow, match, run_interface
from interfacial.api.potentials import fit_mtp, learn_potential, stored_training_sets, training_text
from interfacial.api.report import report
from interfacial.api.results import (
    build,
    check_diffusion_unsaved,
    empty_database_note,
    load_potential,
    query_arrhenius,
    query_diffusion,
    query_interfaces,
    query_surface_materials,
    query_surfaces,
    run_directory,
    save_diffusion,
    training_set,
)
from interfacial.api.surfaces import run_surfaces, surface_flow
from interfacial.api.transport import (
    analyse_trajectory,
    diffusion_of,
    load_md_structure,
    query_transport,
    run_transport,
    transport,
)

__all__ = [
    "analyse_trajectory",
    "build",
    "check_diffusion_unsaved",
    "diffusion_of",
    "empty_database_note",
    "fit_mtp",
    "interface_flow",
    "learn_potential",
    "load_md_structure",
    "load_potential",
    "match",
    "query_arrhenius",
    "query_diffusion",
    "query_interfaces",
    "query_surface_materials",
    "query_surfaces",
    "query_transport",
    "report",
    "run_directory",
    "run_interface",
    "run_surfaces",
    "run_transport",
    "save_diffusion",
    "stored_training_sets",
    "surface_flow",
    "training_set",
    "training_text",
    "transport",
]
