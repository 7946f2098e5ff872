"""Fit and transport MD engines are reached through the registry only.

Every registered engine resolves to an object with what the code-agnostic jobs call; an unknown
name is refused with one line listing the registered ones when the flow is built, not when a
job runs; the run record of a segmented MD reads back as the runner summarises it.
"""

from __future__ import annotations

import inspect

import pytest
from pydantic import ValidationError

from interfacial import engines
from interfacial.errors import InterfacialError
from mtp_data import SPECIES_ORDER, tiny_potential, toy_cell

#: What jobs/mtp.py, jobs/potential.py and jobs/diffusion.py call on a fit engine.
FIT_METHODS = ("fit", "calculator", "version", "extrapolation_grades", "explore")
#: What jobs/diffusion.py and the segment runner call on a transport MD engine.
MD_METHODS = ("run", "prepare", "execute")
MD_PROPERTIES = ("identity", "description", "species_order")


@pytest.fixture(scope="module")
def potential(tmp_path_factory):
    return tiny_potential(tmp_path_factory.mktemp("fit"))


@pytest.mark.parametrize("name", engines.names("fit"))
def test_fit_engines_resolve_to_classes_with_the_methods_jobs_call(name: str) -> None:
    from interfacial.mtp.engine import MTPEngine

    cls = engines.get("fit", name)
    engine = cls.build()
    assert isinstance(engine, MTPEngine)
    assert engine.name == engines.canonical("fit", name)
    for method in FIT_METHODS:
        assert callable(getattr(engine, method)), method
    # The settings fill in options not given (mlp's command from the worker's settings).
    settings = type("Settings", (), {"mlp_cmd": "/opt/mlp"})()
    built = cls.build({}, settings)
    assert cls.options_from_settings(settings) == {
        option: getattr(built, option) for option in cls.settings_options
    }


@pytest.mark.parametrize("name", engines.names("md"))
def test_md_engines_resolve_to_force_providers_that_run_a_temperature(name, potential) -> None:
    from interfacial.jobs.diffusion import force_provider
    from interfacial.lammps.providers import ForceField

    provider = force_provider(name.upper(), potential, {})  # names are case-insensitive
    assert isinstance(provider, engines.get("md", name))
    assert isinstance(provider, ForceField)
    for method in MD_METHODS:
        assert callable(getattr(provider, method)), method
    for prop in MD_PROPERTIES:
        assert getattr(provider, prop)
    assert provider.identity == f"mtp:{potential.sha256}"
    assert {"workdir", "structure", "temperature", "plan", "velocity_seed"} <= set(
        inspect.signature(provider.run).parameters
    )


def _one_line(err: pytest.ExceptionInfo[BaseException], *needles: str) -> None:
    text = str(err.value)
    assert "\n" not in text, text
    for needle in needles:
        assert needle in text, (needle, text)


def test_unknown_md_engine_is_refused_when_the_flow_is_built() -> None:
    from interfacial.campaign import TransportSpec
    from interfacial.flows.diffusion import DiffusionMDMaker

    with pytest.raises(InterfacialError) as err:
        DiffusionMDMaker(md_engine="gromacs")
    _one_line(err, "md_engine", "gromacs", *engines.names("md"))
    with pytest.raises(ValidationError) as invalid:
        TransportSpec(structure="Li2S", potential="x.mtp", md_engine="gromacs")
    assert all(name in str(invalid.value) for name in engines.names("md"))
    # A campaign spells the engine as it likes; the canonical name travels on.
    spec = TransportSpec(structure="Li2S", potential="x.mtp", md_engine="Motep-External")
    assert spec.md_engine == "motep-external"


def test_unknown_fit_engine_or_option_is_refused_when_the_flow_is_built() -> None:
    from interfacial.flows.mtp import MTPFitMaker

    with pytest.raises(InterfacialError) as err:
        MTPFitMaker(engine="lammps")
    _one_line(err, "unknown MTP engine 'lammps'", *engines.names("fit"))
    with pytest.raises(InterfacialError) as err:
        MTPFitMaker(engine="motep", engine_options={"command": "mlp"})
    _one_line(err, "bad option for the motep engine")


def test_run_record_reads_back_as_the_runner_summarises_it(potential, tmp_path) -> None:
    from interfacial.lammps import MotepExternal, SegmentedMD, read_run_record, temperature_stages
    from interfacial.lammps.record import STATE_FILE

    stages = temperature_stages(
        600.0, ramp_steps=20, equilibration_steps=0, production_steps=40, dump_interval=10
    )
    md = SegmentedMD(toy_cell(), SPECIES_ORDER, stages, MotepExternal(potential), tmp_path)
    md.workdir.mkdir(parents=True, exist_ok=True)
    md._write_state([])  # what a run writes before its first segment
    record = read_run_record(tmp_path)
    assert record == md.record()
    assert record == read_run_record(tmp_path / STATE_FILE)
    assert record.species_order == list(SPECIES_ORDER)
    assert record.time_step_fs == md.time_step_fs
    assert (record.total_steps, record.production_steps, record.dump_interval) == (60, 40, 10)
    assert not record.complete and record.production_segments == []
    (tmp_path / STATE_FILE).write_text("{half")
    with pytest.raises(InterfacialError) as err:
        read_run_record(tmp_path)
    _one_line(err, STATE_FILE, "unreadable MD run record")
