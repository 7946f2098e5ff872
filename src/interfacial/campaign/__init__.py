"""Campaign files: a whole study in one validated YAML file, run locally or submitted to FireWorks.

A campaign names the materials, the facets, the interfaces, the calculator of each stage and
where each kind of job runs (FireWorks ``_category``). Errors name the line and the field::

    name: li-anode
    calculators: {surfaces: VASP, interfaces: VASP}
    screen:
      - {electrolyte: Li6PS5Cl, metal: Li, calculator: CHGNet, refine_calculator: VASP}
    surfaces:
      - {material: Li, max_index: 1}
    interfaces:
      - {metal: Li, compound: Li2S, metal_miller: [1, 1, 0], compound_miller: [1, 1, 0]}
    potentials:
      - {structure: Li2S, reference: {vacancy_element: Li, vacancy_count: 1}}
    transport:
      - {structure: Li2S, potential: "store:Li2S-vac", supercell_atoms: 96}
    md_temperatures: [300, 400, 500, 600, 700, 800, 900, 1000]
    routing: {dft: dft, md: md, fit: fit}

Run here (:func:`run`), the stages run in that order, so a transport entry may use the potential
that the same campaign's potentials stage learns (``store:SYSTEM``). Submitted (:func:`submit`),
entries that use another entry's result are wired into one flow
(:mod:`~interfacial.campaign.chain`) and every job goes to the ``routing`` category of its kind
(:mod:`interfacial.routing`). Converting uses ``flow_to_workflow(flow, store=None)``: no store
settings and no credentials travel inside a Firework; workers use their own ``jobflow.yaml``.

One module per responsibility: :mod:`~interfacial.campaign.entries` (the entries of the file),
:mod:`~interfacial.campaign.spec` (the campaign, its flows, :func:`load_campaign`),
:mod:`~interfacial.campaign.chain` (references inside one submission),
:mod:`~interfacial.campaign.local` (running it here) and :mod:`~interfacial.campaign.fireworks`
(submitting it).
"""

from interfacial.campaign.entries import (
    Calculators,
    FitSpec,
    InterfaceSpec,
    PotentialSpec,
    ReferenceSpec,
    Routing,
    ScreenSpec,
    SurfaceSpec,
    TransportSpec,
)
from interfacial.campaign.fireworks import (
    STAGE_ROUTE,
    WORKER_VASP_CMD,
    open_launchpad,
    route,
    submit,
    submit_file,
)
from interfacial.campaign.local import CampaignResult, demo_file, run, run_demo, run_file
from interfacial.campaign.spec import Campaign, check_lammps_available, load_campaign

__all__ = [
    "STAGE_ROUTE",
    "WORKER_VASP_CMD",
    "Calculators",
    "Campaign",
    "CampaignResult",
    "FitSpec",
    "InterfaceSpec",
    "PotentialSpec",
    "ReferenceSpec",
    "Routing",
    "ScreenSpec",
    "SurfaceSpec",
    "TransportSpec",
    "check_lammps_available",
    "demo_file",
    "load_campaign",
    "open_launchpad",
    "route",
    "run",
    "run_demo",
    "run_file",
    "submit",
    "submit_file",
]
