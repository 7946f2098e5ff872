"""One submission for the whole chain: potentials submitted, jobs routed by kind, references wired.

Fast checks of what a submission builds (no job runs): a potentials entry on an interface of the
same campaign and a transport entry on that interface with the potential the campaign learns
become one workflow whose links run them in order; each job's ``_category`` is that of its kind;
jobs an active-learning round creates at run time are routed by kind too (real jobflow
``Job.run`` on a toy round). The whole chain through real FireWorks workers is in
``test_full_chain_fireworks.py``.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from jobflow import Flow, JobStore, Response, job
from maggma.stores import MemoryStore

from interfacial.campaign import load_campaign, submit
from interfacial.errors import InterfacialError
from interfacial.routing import ROUTES_KEY, role_routes, route, route_created
from interfacial.schemas.roles import Role, tag

WORKFLOWS = Path(__file__).parents[1] / "workflows"
ROUTING = {"dft": "dft-q", "fit": "fit-q", "md": "md-q"}
CHAIN = """\
name: chain
interfaces:
  - {metal: Li, compound: LiCl, metal_miller: [1, 0, 0], compound_miller: [1, 0, 0],
     metal_thickness: 4.0, compound_thickness: 4.0, max_atoms: 40, registries: [[0, 0]],
     gaps: [2.0]}
potentials:
  - structure: "interface:Li(100)|LiCl(100)"
    calculator: CHGNet
    reference: {production_steps: 40, validation_steps: 10, ramp_steps: 5,
                vacancy_element: Li, vacancy_count: 1}
    fit: {level: 2}
    max_rounds: 1
transport:
  - {structure: "interface:Li(100)|LiCl(100)", potential: "store:Li(100)|LiCl(100)-vac",
     md_engine: motep-external, production_ps: 1.0}
md_temperatures: [300, 400]
routing: {dft: dft-q, fit: fit-q, md: md-q}
"""


class RecordingLaunchPad:
    """Stands in for fireworks.LaunchPad.add_wf: keeps the workflows it is given."""

    def __init__(self) -> None:
        self.workflows: list = []

    def add_wf(self, workflow) -> dict:
        self.workflows.append(workflow)
        return {}


@pytest.fixture
def empty_database(tmp_path, monkeypatch):
    """A data directory with nothing in it: every reference must come from the campaign."""
    monkeypatch.setenv("INTERFACIAL_DATA_DIR", str(tmp_path / "db"))
    monkeypatch.setenv("INTERFACIAL_CONFIG_FILE", str(tmp_path / "none.yaml"))
    return tmp_path / "db"


def ancestors(workflow, fw_id: int) -> set[int]:
    """Every Firework that must complete before ``fw_id`` (the workflow's links, reversed)."""
    parents: dict[int, set[int]] = {}
    for parent, children in workflow.links.items():
        for child in children:
            parents.setdefault(child, set()).add(parent)
    seen: set[int] = set()
    todo = [fw_id]
    while todo:
        for parent in parents.get(todo.pop(), ()):
            if parent not in seen:
                seen.add(parent)
                todo.append(parent)
    return seen


def test_interface_potential_and_transport_become_one_ordered_workflow(tmp_path, empty_database):
    path = tmp_path / "chain.yaml"
    path.write_text(CHAIN)
    lpad = RecordingLaunchPad()
    added = submit(load_campaign(path), lpad)

    (workflow,) = lpad.workflows
    assert [a["stage"] for a in added] == ["chain"]
    assert added[0]["category"] == "dft-q, md-q"  # the fits are created at run time
    assert not empty_database.exists()  # nothing was read from or written to the database
    by_name = {fw.name: fw for fw in workflow.fws}
    picker = by_name["lowest model Li(100)|LiCl(100)"]
    learn = by_name["learn potential Li(100)|LiCl(100)-vac on its structure"]
    transport = by_name["transport md Li(100)|LiCl(100) on its structure"]
    energetics = by_name["interface calculations Li(1,0,0)|LiCl(1,0,0)"]
    # Links: interface -> lowest model -> potential -> transport.
    assert energetics.fw_id in ancestors(workflow, picker.fw_id)
    assert picker.fw_id in ancestors(workflow, learn.fw_id)
    assert {learn.fw_id, picker.fw_id} <= ancestors(workflow, transport.fw_id)
    # Routing by kind: the interface stage and the potential's reference MD to dft, MD to md.
    assert energetics.spec["_category"] == picker.spec["_category"] == "dft-q"
    assert transport.spec["_category"] == "md-q"
    # The potential's job builds its flow at run time and routes it by role itself.
    assert learn.spec["_category"] == "dft-q"
    assert learn.spec[ROUTES_KEY] == role_routes(ROUTING)
    task = learn.tasks[0]["job"]
    assert task.config.pass_manager_config is False
    # The interface vacancies of the reference MD sit in the interface region.
    reference = task.function_args[1].reference_md_maker
    assert (reference.vacancy_region, reference.vacancy_count) == ("interface", 1)


def test_the_demo_submits_its_potential_and_transport_routed_by_kind(empty_database):
    demo = load_campaign(WORKFLOWS / "demo.yaml")
    demo.surfaces, demo.interfaces = [], []
    demo.routing.dft, demo.routing.fit, demo.routing.md = "dft-q", "fit-q", "md-q"
    lpad = RecordingLaunchPad()
    added = submit(demo, lpad)
    # Potential on a built-in (built now), transport on the potential it learns: one chain.
    assert [a["stage"] for a in added] == ["chain"]
    (workflow,) = lpad.workflows
    categories = {fw.name: fw.spec["_category"] for fw in workflow.fws}
    reference = [n for n in categories if n.startswith("CHGNet reference MD Li2S-vac")]
    assert len(reference) == 3 and {categories[n] for n in reference} == {"dft-q"}
    assert categories["training sets Li2S-vac"] == "fit-q"
    assert categories["mtp fit Li2S-vac level 10"] == "fit-q"
    assert categories["active learning Li2S-vac round 0"] == "fit-q"
    md = [n for n in categories if n.startswith("transport md Li2S-vac")]
    assert len(md) == 3 and {categories[n] for n in md} == {"md-q"}
    assert categories["arrhenius Li2S-vac"] == "md-q"
    by_name = {fw.name: fw for fw in workflow.fws}
    learning = by_name["active learning Li2S-vac round 0"]
    for name in md:  # each transport run waits for the active-learning chain's final fit
        assert learning.fw_id in ancestors(workflow, by_name[name].fw_id)


def test_the_cluster_path_submits_vasp_aimd_mlp_fits_and_lammps_on_their_queues(empty_database):
    """VASP AIMD (ramp, production, summary) to dft, `mlp` fits to fit, LAMMPS to md."""
    text = """\
name: cluster
potentials:
  - structure: Li2S
    calculator: VASP
    reference: {vacancy_element: Li, vacancy_count: 1, supercell_atoms: 96}
    fit: {engine: mlp, level: 10}
transport:
  - {structure: Li2S, potential: "store:Li2S-vac", md_engine: mlip, vacancy_count: 1}
md_temperatures: [300, 600]
routing: {dft: dft-q, fit: fit-q, md: md-q}
"""
    path = empty_database.parent / "cluster.yaml"
    path.write_text(text)
    lpad = RecordingLaunchPad()
    submit(load_campaign(path), lpad)
    (workflow,) = lpad.workflows
    categories = {fw.name: fw.spec["_category"] for fw in workflow.fws}
    kinds = {
        "VASP AIMD": "dft-q",
        "training sets": "fit-q",
        "mtp fit": "fit-q",
        "active learning": "fit-q",
        "transport md": "md-q",
        "arrhenius": "md-q",
    }
    for name, category in categories.items():
        (prefix,) = [p for p in kinds if name.startswith(p)]
        assert category == kinds[prefix], name
    assert sum(n.startswith("VASP AIMD") for n in categories) == 9  # 3 runs x 3 jobs
    fit = next(fw for fw in workflow.fws if fw.name.startswith("mtp fit"))
    assert fit.tasks[0]["job"].function_args[4] == "mlp"  # the entry's fit engine


def test_a_reference_nobody_provides_refuses_the_submission(tmp_path, empty_database):
    # The campaign without its interfaces stage; the database is empty.
    text = "name: chain\n" + CHAIN[CHAIN.index("potentials:") :]
    path = tmp_path / "chain.yaml"
    path.write_text(text)
    lpad = RecordingLaunchPad()
    with pytest.raises(InterfacialError, match=r"potentials\[0\].*interfaces stage") as info:
        submit(load_campaign(path), lpad)
    assert "\n" not in str(info.value)
    assert lpad.workflows == []


# ------------------------------------------------------------------ jobs created at run time


@job
def toy(x: int) -> int:
    return x


@job
def toy_round(rounds_left: int) -> Response | int:
    """Stands in for an active-learning round: a label, an untagged merge, a refit, a round."""
    if rounds_left == 0:
        return 0
    label = tag(toy(1), Role.AL_LABEL, round=0)
    merge = toy(2)
    refit = tag(toy(3), Role.MTP_FIT, system="X", engine="motep", level=2)
    following = tag(toy_round(rounds_left - 1), Role.ACTIVE_LEARNING, round=1)
    following.config.pass_manager_config = False
    jobs = [label, merge, refit, following]
    route_created(jobs)
    return Response(replace=Flow(jobs, output=following.output))


@job
def toy_builder() -> Response:
    """Stands in for the job that builds the potential flow once its structure exists."""
    first = tag(toy_round(2), Role.ACTIVE_LEARNING, round=0)
    first.config.pass_manager_config = False
    route_created([first])
    return Response(replace=Flow([first], output=first.output))


def test_a_round_routes_the_jobs_it_creates_by_kind():
    """jobflow's own Job.run: the parent's route is not passed on, each child gets its kind's.

    The round is itself created at run time by a job of another queue (dft), as the potential
    flow on an interface model is: jobflow hands that job's config updates down to the round.
    """
    builder = toy_builder()
    builder.config.pass_manager_config = False
    flow = Flow([builder])
    route(flow, "dft-q", "node-1", role_routes(ROUTING))
    assert builder.config.manager_config["_category"] == "dft-q"

    store = JobStore(MemoryStore(), additional_stores={"data": MemoryStore()})
    store.connect()
    built = builder.run(store).replace.jobs
    assert [j.name for j in built] == ["toy_round", "store_inputs"]
    assert [j.config.manager_config["_category"] for j in built] == ["fit-q", "dft-q"]
    response = built[0].run(store)
    # A label, an untagged merge (its parent's queue), a refit, the next round, and jobflow's
    # store_inputs (stores the replacement's output under the parent's uuid).
    names = [j.name for j in response.replace.jobs]
    assert names == ["toy", "toy", "toy", "toy_round", "store_inputs"]
    ordered = [j.config.manager_config for j in response.replace.jobs]
    assert [c["_category"] for c in ordered] == ["dft-q", "fit-q", "fit-q", "fit-q", "fit-q"]
    assert all(c["_fworker"] == "node-1" for c in ordered)
    # Only the next round carries the routes on (it creates jobs in turn).
    assert [ROUTES_KEY in c for c in ordered] == [False, False, False, True, False]
    # The next round's children are routed the same way, its store_inputs with it again
    # (the updates handed down from the dft job and the first round do not win).
    again = response.replace.jobs[3].run(store).replace.jobs
    assert [j.config.manager_config["_category"] for j in again] == [
        "dft-q",
        "fit-q",
        "fit-q",
        "fit-q",
        "fit-q",
    ]


def test_without_routes_a_round_creates_jobs_that_run_anywhere():
    """Run here (no routing): the children carry no category, as before."""
    first = toy_round(1)
    first.config.pass_manager_config = False
    store = JobStore(MemoryStore(), additional_stores={"data": MemoryStore()})
    store.connect()
    response = first.run(store)
    assert all(not j.config.manager_config for j in response.replace.jobs)


@pytest.mark.slow
def test_run_here_learns_on_the_campaigns_interface_and_runs_transport_on_it(tmp_path):
    """The local runner: the same chain, stage after stage, nothing in the database before."""
    from interfacial.campaign import run
    from interfacial.settings import InterfacialSettings
    from test_full_chain_fireworks import CAMPAIGN

    path = tmp_path / "chain.yaml"
    path.write_text(CAMPAIGN)
    lines: list[str] = []
    settings = InterfacialSettings(data_dir=tmp_path / "db")
    result = run(load_campaign(path), settings, show_progress=False, say=lines.append)
    assert [line.split(": ")[0] for line in lines] == [
        "[1/3] interfaces",
        "[2/3] potentials",
        "[3/3] transport",
    ]
    (learned,) = result.potentials
    assert learned["final_fit"]["system"] == "Li(100)|LiCl(100)-vac"
    assert sorted(d["temperature"] for d in result.diffusion) == [300.0, 400.0]
    sha = learned["final_fit"]["potential_sha256"]
    assert {d["potential_sha256"] for d in result.diffusion} == {sha}


def test_the_whole_li_study_is_one_submission(empty_database):
    """workflows/li_full.yaml: surfaces, then one workflow per interface -> potential -> D*."""
    full = load_campaign(WORKFLOWS / "li_full.yaml")
    lpad = RecordingLaunchPad()
    added = submit(full, lpad)
    assert [a["stage"] for a in added] == ["surfaces"] * 4 + ["chain"] * 3
    assert not empty_database.exists()  # nothing read from or written to the database
    for workflow in lpad.workflows[4:]:
        by_name = {fw.name: fw for fw in workflow.fws}
        (picker,) = [fw for name, fw in by_name.items() if name.startswith("lowest model")]
        (learn,) = [fw for name, fw in by_name.items() if name.startswith("learn potential")]
        (transport,) = [fw for name, fw in by_name.items() if name.startswith("transport md")]
        assert picker.fw_id in ancestors(workflow, learn.fw_id)
        assert learn.fw_id in ancestors(workflow, transport.fw_id)
        # VASP AIMD is built on the worker from the relaxed model: routed to dft with the
        # routes it gives its own jobs (fits to fit, labels to dft, MD to md).
        assert learn.spec["_category"] == "dft" and transport.spec["_category"] == "md"
        assert learn.spec[ROUTES_KEY] == role_routes({"dft": "dft", "fit": "fit", "md": "md"})
        # The transport job learns on its own cell first: it routes what it creates too.
        assert transport.spec[ROUTES_KEY]["al_label"] == "dft"
        assert transport.spec[ROUTES_KEY]["mtp_fit"] == "fit"
        maker = learn.tasks[0]["job"].function_args[1]
        reference = maker.reference_md_maker
        assert (reference.vacancy_region, reference.vacancy_fraction) == ("interface", 0.011)
        assert (reference.temperature, reference.time_step) == (1000.0, 2.0)
        assert type(maker.fit_maker).__name__ == "MLPFitMaker" and maker.fit_maker.level == 10
    assert [len(w.fws) for w in lpad.workflows[4:]] == [len(lpad.workflows[4].fws)] * 3
