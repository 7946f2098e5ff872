"""Independent parts of a campaign run side by side: which entries wait for which, and lanes."""

from __future__ import annotations

from pathlib import Path

import pytest

from interfacial.campaign import demo_file, load_campaign
from interfacial.campaign.lanes import (
    LaneTask,
    independent_groups,
    plan_lanes,
    run_lanes,
)
from interfacial.campaign.spec import Step
from interfacial.errors import InterfacialError

WORKFLOWS = Path(__file__).resolve().parents[1] / "workflows"


def flowless_steps(campaign) -> list[Step]:
    """The campaign's steps in running order without building a flow (names as the runner's)."""
    steps = [Step("screen", s.electrolyte, None, i) for i, s in enumerate(campaign.screen)]
    steps += [Step("surfaces", s.material, None, i) for i, s in enumerate(campaign.surfaces)]
    steps += [Step("interfaces", s.metal, None, i) for i, s in enumerate(campaign.interfaces)]
    steps += [Step("potentials", n, None, i) for i, n in enumerate(campaign.learnt_systems())]
    steps += [Step("transport", t.structure, None, i) for i, t in enumerate(campaign.transport)]
    return steps


def test_the_demo_has_two_independent_parts():
    """Surfaces and interfaces; the Li2S potential and the transport that uses it."""
    demo = load_campaign(demo_file())
    steps = flowless_steps(demo)
    groups = independent_groups(demo, steps)
    assert [[steps[i].stage for i in g] for g in groups] == [
        ["surfaces"] * 4 + ["interfaces"] * 3,
        ["potentials", "transport"],
    ]
    assert plan_lanes(groups, 2) == groups
    assert plan_lanes(groups, 1) == [list(range(len(steps)))]  # file order, as before
    assert plan_lanes(groups, 8) == groups  # never more lanes than parts


def test_a_potential_on_the_campaigns_interface_waits_for_it(tmp_path):
    """A chain (interface -> potential on it -> transport with it) is one part."""
    from test_full_chain_fireworks import CAMPAIGN

    path = tmp_path / "chain.yaml"
    path.write_text(CAMPAIGN)
    chain = load_campaign(path)
    steps = flowless_steps(chain)
    assert len(steps) == 3
    assert independent_groups(chain, steps) == [[0, 1, 2]]


def test_each_potential_with_its_transport_is_a_part_of_its_own():
    """Two potentials on built-in cells, transport on each, one on a stored potential."""
    demo = load_campaign(demo_file())
    demo.surfaces, demo.interfaces = [], []
    (potential,) = demo.potentials
    other = potential.model_copy(update={"structure": "Li3P"})
    demo.potentials = [potential, other]
    (transport,) = demo.transport
    demo.transport = [
        transport.model_copy(update={"structure": "Li3P", "potential": "store:Li3P-vac"}),
        transport,
        transport.model_copy(update={"potential": "store:Older"}),
    ]
    steps = flowless_steps(demo)
    assert [s.name for s in steps[:2]] == ["Li2S-vac", "Li3P-vac"]
    groups = independent_groups(demo, steps)
    # potentials Li2S-vac + its transport; Li3P-vac + its transport; the stored one alone
    assert groups == [[0, 3], [1, 2], [4]]
    assert plan_lanes(groups, 2) == [[0, 3, 4], [1, 2]]


def test_the_li_study_keeps_surfaces_interfaces_and_their_chains_together():
    """workflows/li_full.yaml: every potential is on an interface the campaign computes."""
    study = load_campaign(WORKFLOWS / "li_full.yaml")
    steps = flowless_steps(study)
    assert independent_groups(study, steps) == [list(range(len(steps)))]


def test_fewer_than_one_worker_is_refused():
    with pytest.raises(InterfacialError, match="workers 0 must be at least 1"):
        plan_lanes([[0], [1]], 0)


def test_plan_lanes_uses_one_lane_per_core_by_default(monkeypatch):
    from interfacial.campaign import lanes

    monkeypatch.setattr(lanes, "available_cores", lambda: 2)
    assert plan_lanes([[0, 1], [2], [3]], None) == [[0, 1, 3], [2]]
    monkeypatch.setattr(lanes, "available_cores", lambda: 1)
    assert plan_lanes([[0, 1], [2], [3]], None) == [[0, 1, 2, 3]]


def test_a_failing_lane_lets_the_others_finish_then_names_itself(tmp_path):
    """A child lane fails (its potential is nowhere): the first lane still runs to its end,
    the child's lines come back prefixed with its name, and its error is raised afterwards.
    """
    from interfacial.settings import InterfacialSettings

    demo = load_campaign(demo_file())
    (transport,) = demo.transport
    demo.transport = [transport.model_copy(update={"potential": "store:NOSUCH"})]
    settings = InterfacialSettings(data_dir=tmp_path / "db")
    ran: list[int] = []

    def first_lane(campaign, steps, settings, *, show_progress, say, total):
        ran.extend(n for n, _ in steps)
        return {n: {"surfaces": [{"lane": 0}]} for n, _ in steps}

    lines: list[str] = []
    lanes = [[(1, Step("surfaces", "Li", None, 0))], [(9, Step("transport", "Li2S", None, 0))]]
    with pytest.raises(InterfacialError) as raised:
        run_lanes(demo, lanes, settings, first_lane, show_progress=False, say=lines.append, total=9)
    assert ran == [1]
    message = str(raised.value)
    assert message.startswith("transport Li2S: ") and "NOSUCH" in message
    assert "(transport Li2S) [9/9] transport: Li2S" in lines
    assert lines[0].startswith("2 independent parts side by side")


def test_a_lane_task_survives_the_trip_to_its_process(tmp_path):
    """What the child unpickles: campaign, settings and flowless steps."""
    import pickle

    from interfacial.settings import InterfacialSettings

    demo = load_campaign(demo_file())
    task = LaneTask(
        demo,
        InterfacialSettings(data_dir=tmp_path, torch_threads=1),
        [(8, Step("potentials", "Li2S-vac", None, 0))],
        9,
        False,
    )
    back = pickle.loads(pickle.dumps(task))
    assert back.campaign == demo
    assert back.settings.data_dir == tmp_path and back.settings.torch_threads == 1
    assert back.steps[0][1].name == "Li2S-vac"
