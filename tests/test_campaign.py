"""Campaign files: the shipped ones validate, errors point at the line, submission is clean."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from interfacial.campaign import load_campaign, submit
from interfacial.errors import InterfacialError

WORKFLOWS = Path(__file__).parents[1] / "workflows"
SMALL = Path(__file__).parent / "reference" / "small_campaign.yaml"


@pytest.mark.parametrize("name", ["demo.yaml", "li_study.yaml", "na_study.yaml"])
def test_shipped_campaigns_validate_and_build_their_flows(name):
    campaign = load_campaign(WORKFLOWS / name)
    flows = campaign.flows()
    stages = [stage for stage, _ in flows]
    assert stages.count("surfaces") == len(campaign.surfaces)
    assert stages.count("interfaces") == len(campaign.interfaces)


def test_study_campaigns_cover_the_study():
    li = load_campaign(WORKFLOWS / "li_study.yaml")
    na = load_campaign(WORKFLOWS / "na_study.yaml")
    assert {i.compound for i in li.interfaces} == {"Li2S", "Li3P", "LiCl", "Li2O", "Li3N"}
    assert {i.compound for i in na.interfaces} == {"Na2S", "Na3P", "Na2O"}
    for campaign in (li, na):
        assert campaign.calculators.surfaces == campaign.calculators.interfaces == "VASP"
        assert campaign.md_temperatures == [300, 400, 500, 600, 700, 800, 900, 1000]


BAD = {
    "unknown field": (
        "name: x\ninterfaces:\n  - metal: Li\n    compound: Li2S\n    metal_millr: [1, 1, 0]\n"
        "    compound_miller: [1, 1, 0]\n",
        [":5: interfaces.0.metal_millr: unknown field; allowed here: metal, compound"],
    ),
    "bad miller": (
        "name: x\nsurfaces:\n  - {material: Li, millers: [[0, 0, 0]]}\n",
        [":3: surfaces.0.millers: ", "names no plane"],
    ),
    "bad calculator": (
        "name: x\ncalculators:\n  surfaces: Gaussian\n",
        [":3: calculators.surfaces: ", "'Gaussian' is not one of CHGNet, SevenNet, VASP"],
    ),
    "bad temperature": ("name: x\nmd_temperatures: [300, -5]\n", [":2: md_temperatures: "]),
    "missing name": ("surfaces: []\n", ["name: Field required"]),
    "unknown potentials field": (
        "name: x\npotentials:\n  - structure: Li2S\n    rounds: 2\n",
        [":4: potentials.0.rounds: unknown field; allowed here: structure, reference, fit"],
    ),
    "unknown reference field": (
        "name: x\npotentials:\n  - structure: Li2S\n    reference:\n      temprature: 900\n",
        [":5: potentials.0.reference.temprature: unknown field; allowed here: temperature"],
    ),
    "bad reference vacancies": (
        "name: x\npotentials:\n  - structure: Li2S\n    reference:\n"
        "      vacancy_element: Xx\n      vacancy_fraction: 0.9\n",
        [
            ":5: potentials.0.reference.vacancy_element: 'Xx' is not an element",
            ":6: potentials.0.reference.vacancy_fraction: ",
        ],
    ),
    "bad reference temperature": (
        "name: x\npotentials:\n  - structure: Li2S\n"
        "    reference: {validation_temperatures: [300, -1]}\n",
        [":4: potentials.0.reference.validation_temperatures: temperatures [-1.0] K"],
    ),
    "bad fit level": (
        "name: x\npotentials:\n  - structure: Li2S\n    fit:\n      level: 7\n",
        [":5: potentials.0.fit.level: level 7 is not one of"],
    ),
    "unknown fit field": (
        "name: x\npotentials:\n  - structure: Li2S\n    fit: {levle: 10}\n",
        [":4: potentials.0.fit.levle: unknown field; allowed here: level, cutoff"],
    ),
    "bad active learning": (
        "name: x\npotentials:\n  - structure: Li2S\n    max_rounds: -1\n    grade_threshold: 0.5\n",
        [":4: potentials.0.max_rounds: ", ":5: potentials.0.grade_threshold: "],
    ),
    "potential without structure": (
        "name: x\npotentials:\n  - {max_rounds: 1}\n",
        [":3: potentials.0.structure: Field required"],
    ),
    "not a mapping": ("- just\n- a list\n", ["a campaign is a mapping"]),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_errors_name_the_line_and_the_field(tmp_path, case):
    text, fragments = BAD[case]
    path = tmp_path / "campaign.yaml"
    path.write_text(text)
    with pytest.raises(InterfacialError) as info:
        load_campaign(path)
    for fragment in fragments:
        assert fragment in str(info.value)


class RecordingLaunchPad:
    """Stands in for fireworks.LaunchPad.add_wf: keeps the workflows it is given."""

    def __init__(self) -> None:
        self.workflows: list = []

    def add_wf(self, workflow) -> dict:
        self.workflows.append(workflow)
        return {}


def test_submission_routes_jobs_and_carries_no_credentials(monkeypatch):
    secret = "s3cr3t-pa55"
    monkeypatch.setenv(
        "INTERFACIAL_STORE_URI", f"mongodb://alice:{secret}@db.example.org/interfacial"
    )
    monkeypatch.setenv("INTERFACIAL_VASP_CMD", "srun vasp_std")
    campaign = load_campaign(SMALL)
    campaign.routing.dft = "gpu-dft"
    campaign.routing.fworker = "node-7"
    lpad = RecordingLaunchPad()
    added = submit(campaign, lpad)
    assert len(lpad.workflows) == len(added) == 3
    for workflow in lpad.workflows:
        text = json.dumps(workflow.to_dict(), default=str)
        assert secret not in text
        assert "alice" not in text
        assert "db.example.org" not in text
        for fw in workflow.fws:
            assert fw.spec["_category"] == "gpu-dft"
            assert fw.spec["_fworker"] == "node-7"
            # jobflow's store=None: the worker's own jobflow.yaml decides where results go.
            assert fw.tasks[0]["store"] is None


def test_submitted_vasp_jobs_use_the_workers_vasp_command(monkeypatch):
    monkeypatch.setenv("INTERFACIAL_VASP_CMD", "srun -n 99 submitter_vasp")
    campaign = load_campaign(WORKFLOWS / "na_study.yaml")
    campaign.interfaces = campaign.interfaces[:1]
    lpad = RecordingLaunchPad()
    submit(campaign, lpad)
    text = json.dumps([wf.to_dict() for wf in lpad.workflows], default=str)
    assert "submitter_vasp" not in text
    assert "${INTERFACIAL_VASP_CMD}" in text  # expanded by atomate2 on the worker


@pytest.mark.slow
def test_run_executes_a_campaign_here(tmp_path):
    import os
    import subprocess
    import sys

    path = tmp_path / "tiny.yaml"
    path.write_text(
        "name: tiny\nsurfaces:\n  - {material: Li, millers: [[1, 1, 0]], min_thickness: 6}\n"
    )
    env = {**os.environ, "INTERFACIAL_DATA_DIR": str(tmp_path / "db"), "MPLBACKEND": "Agg"}
    cli = [str(Path(sys.executable).parent / "interfacial")]
    result = subprocess.run(
        [*cli, "run", str(path)], capture_output=True, text=True, env=env, check=False
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert "Surface energies (tiny)" in result.stdout
    query = subprocess.run(
        [*cli, "query", "surfaces", "--json"], capture_output=True, text=True, env=env, check=False
    )
    (doc,) = json.loads(query.stdout)
    assert doc["miller_index"] == [1, 1, 0]
    assert 0.2 < doc["surface_energy"] < 0.5


def test_the_demo_ships_inside_the_package_as_workflows_demo_yaml():
    from interfacial.campaign import demo_file

    assert demo_file().read_bytes() == (WORKFLOWS / "demo.yaml").read_bytes()


def test_the_demo_plan_is_the_main_job():
    demo = load_campaign(WORKFLOWS / "demo.yaml")
    assert [s.material for s in demo.surfaces] == ["Li", "Li2S", "Li3P", "LiCl"]
    assert all(s.max_index == 1 and s.millers is None for s in demo.surfaces)
    assert [(i.metal_miller, i.compound, i.compound_miller) for i in demo.interfaces] == [
        ([1, 1, 0], "Li2S", [1, 1, 0]),
        ([1, 0, 0], "Li3P", [0, 0, 1]),
        ([1, 1, 0], "LiCl", [1, 0, 0]),
    ]
    (potential,) = demo.potentials
    assert demo.learnt_systems() == ["Li2S-vac"]
    options = potential.learn_options()
    assert options["reference"]["vacancy_count"] == 1
    assert options["reference"]["production_steps"] * options["reference"]["time_step"] == 2000
    assert options["fit"] == {"level": 10, "max_training": 100, "engine_options": {"max_iter": 75}}
    (transport,) = demo.transport
    # The guard against a potential that holds small cells but not the transport cell.
    assert (transport.learn_rounds, transport.learn_ps) == (1, 1.0)
    assert transport.potential == "store:Li2S-vac"
    assert demo.md_temperatures == [600, 700, 800]
    steps = transport.maker_options(demo.md_temperatures)
    assert (steps["production_steps"], steps["dump_interval"], steps["supercell_atoms"]) == (
        10_000,
        20,
        96,
    )
