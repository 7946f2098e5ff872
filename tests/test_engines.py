"""The engine registry: names, errors, the calculator protocol, and a new engine plugged in."""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import dataclass

import pytest
from jobflow import Flow, Maker, job

from interfacial import engines
from interfacial.engines import CalculatorEngine, EngineSpec
from interfacial.errors import InterfacialError
from interfacial.flows.surface import SurfaceEnergyMaker
from interfacial.settings import InterfacialSettings

# ---------------------------------------------------------------------------------------------
# A fake calculator engine, registered by the tests below through monkeypatch only
# ---------------------------------------------------------------------------------------------


@job
def fake_relax(structure):
    """Stands in for a relaxation: never run here, only built into a flow."""
    return structure


@dataclass
class FakeRelaxMaker(Maker):
    name: str = "Fake relax"

    def make(self, structure):
        return fake_relax(structure)


@dataclass(frozen=True)
class FakeEngine:
    name: str = "Fake"

    def check_available(self):
        pass

    def check_can_run_locally(self, settings):
        pass

    def surface_energy_maker(self, settings, **kwargs):
        return SurfaceEnergyMaker(
            calculator=self.name,
            bulk_relax_maker=FakeRelaxMaker(name="Fake bulk relax"),
            slab_relax_maker=FakeRelaxMaker(name="Fake slab relax"),
            **kwargs,
        )

    def interface_energetics_maker(self, settings, surface_maker=None, relax_fmax=None, **kw):
        raise NotImplementedError

    def learn_potential_maker(self, settings, reference=None, fit=None, **kwargs):
        raise NotImplementedError


FAKE_ENGINE = FakeEngine()


@pytest.fixture
def fake_registered(monkeypatch):
    spec = EngineSpec("calculator", "Fake", __name__, "a fake", None, "FAKE_ENGINE")
    monkeypatch.setattr(engines, "BUILTIN_ENGINES", (*engines.BUILTIN_ENGINES, spec))


# ---------------------------------------------------------------------------------------------
# Names and errors
# ---------------------------------------------------------------------------------------------


def test_unknown_calculator_is_one_line_naming_the_choices():
    with pytest.raises(InterfacialError) as info:
        engines.calculator("Gaussian")
    message = str(info.value)
    assert "\n" not in message
    assert "'Gaussian'" in message
    assert ", ".join(engines.names("calculator")) in message
    assert {"CHGNet", "VASP"} <= set(engines.names("calculator"))


def test_names_are_case_insensitive():
    assert engines.canonical("calculator", "chgnet") == "CHGNet"
    assert engines.canonical("calculator", " vasp ") == "VASP"
    assert engines.calculator("vAsP").name == "VASP"


def test_missing_module_names_the_extra_to_install(monkeypatch):
    ghost = EngineSpec("calculator", "Ghost", "interfacial_no_such_module", "gone", "ghost")
    monkeypatch.setattr(engines, "BUILTIN_ENGINES", (*engines.BUILTIN_ENGINES, ghost))
    with pytest.raises(InterfacialError, match=r"pip install 'interfacial\[ghost\]'") as info:
        engines.calculator("ghost")
    assert "\n" not in str(info.value)


def test_missing_force_field_package_names_the_extra():
    from interfacial.forcefields.engine import ForceFieldEngine

    engine = ForceFieldEngine(name="CHGNet", force_field_name="CHGNet", package="no_such_pkg_x")
    with pytest.raises(InterfacialError, match=r"no_such_pkg_x.*pip install 'interfacial\["):
        engine.check_available()


def test_listing_calculators_imports_no_engine():
    code = (
        "import sys; from interfacial import engines; engines.names('calculator'); "
        "engines.canonical('calculator', 'chgnet'); "
        "print(sorted(m for m in ('chgnet', 'torch', 'atomate2', 'interfacial.forcefields') "
        "if m in sys.modules))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert out.strip() == "[]"


# ---------------------------------------------------------------------------------------------
# The built-in calculator engines
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", engines.names("calculator"))
def test_builtin_calculators_follow_the_protocol(name):
    engine = engines.get("calculator", name)
    assert isinstance(engine, CalculatorEngine)
    assert engine.name == name


def test_chgnet_engine_builds_the_default_makers_with_their_job_names():
    from interfacial.forcefields.flows import (
        ForceFieldInterfaceEnergeticsMaker,
        ForceFieldSurfaceEnergyMaker,
    )

    engine = engines.calculator("CHGNet")
    settings = InterfacialSettings()
    surface = engine.surface_energy_maker(settings)
    assert surface == ForceFieldSurfaceEnergyMaker()
    assert (surface.bulk_relax_maker.name, surface.slab_relax_maker.name) == (
        "CHGNet bulk relax",
        "CHGNet slab relax",
    )
    assert surface.bulk_relax_maker.relax_cell and not surface.slab_relax_maker.relax_cell
    interface = engine.interface_energetics_maker(settings, relax_fmax=0.05)
    assert interface.interface_relax_maker.name == "CHGNet interface relax"
    assert interface.strained_bulk_relax_maker.name == "CHGNet strained bulk relax"
    assert interface.interface_relax_maker.relax_kwargs == {
        "fmax": 0.05,
        "filter_kwargs": {"mask": [0, 0, 1, 0, 0, 0]},
    }
    assert interface.surface_maker.slab_relax_maker.relax_kwargs == {"fmax": 0.02}
    assert engine.interface_energetics_maker(settings) == ForceFieldInterfaceEnergeticsMaker()


def test_learn_potential_maker_is_chosen_by_calculator_name():
    from interfacial.forcefields.flows import ForceFieldLearnPotentialMaker
    from interfacial.vasp.flows import VaspLearnPotentialMaker

    settings = InterfacialSettings(vasp_cmd="srun vasp_std")
    chgnet = engines.calculator("CHGNet").learn_potential_maker(
        settings, reference={"temperature": 900.0}, fit={"level": 6}, max_rounds=1
    )
    assert type(chgnet) is ForceFieldLearnPotentialMaker
    assert chgnet.reference_md_maker.temperature == 900.0
    assert chgnet.reference_md_maker.calculator == "CHGNet"
    assert chgnet.reference_md_maker.md_maker.name == "CHGNet reference MD"
    assert (chgnet.fit_maker.engine, chgnet.fit_maker.level, chgnet.max_rounds) == ("motep", 6, 1)
    assert chgnet.label_maker.name == "CHGNet static"
    assert chgnet == ForceFieldLearnPotentialMaker(
        reference_md_maker=chgnet.reference_md_maker, fit_maker=chgnet.fit_maker, max_rounds=1
    )
    vasp = engines.calculator("VASP").learn_potential_maker(settings, fit={"level": 16})
    assert type(vasp) is VaspLearnPotentialMaker
    assert vasp.reference_md_maker.calculator == "VASP"
    assert vasp.reference_md_maker.md_maker.stage_kwargs == {"vasp_cmd": "srun vasp_std"}
    assert vasp.label_maker.run_vasp_kwargs == {"vasp_cmd": "srun vasp_std"}
    assert (vasp.fit_maker.engine, vasp.fit_maker.level) == ("mlp", 16)


def test_vasp_reference_md_maker_travels_as_json():
    # The stage factory is a function reference: it serialises as its import path.
    from monty.json import MontyDecoder, MontyEncoder

    from interfacial.vasp.flows import VaspReferenceMDMaker, aimd_maker

    maker = VaspReferenceMDMaker()
    back = json.loads(json.dumps(maker, cls=MontyEncoder), cls=MontyDecoder)
    assert back.md_maker.stage_factory is aimd_maker
    assert back == maker


# ---------------------------------------------------------------------------------------------
# A new engine needs no other file: the API and the campaign pick it by name
# ---------------------------------------------------------------------------------------------


def test_a_registered_engine_is_selectable_by_the_api(fake_registered):
    from interfacial.api import surface_flow

    flow = surface_flow("Li", millers=[[1, 1, 0]], calculator="fake")
    assert isinstance(flow, Flow)
    bulk = flow.jobs[0]
    assert bulk.function is fake_relax.original
    assert bulk.metadata["interfacial"]["calculator"] == "Fake"


def test_a_registered_engine_is_selectable_by_a_campaign(fake_registered, tmp_path):
    from interfacial.campaign import load_campaign

    path = tmp_path / "fake.yaml"
    path.write_text(
        "name: fake\ncalculators: {surfaces: fake}\nsurfaces:\n  - {material: Li, max_index: 1}\n"
    )
    campaign = load_campaign(path)
    assert campaign.calculators.surfaces == "Fake"
    ((stage, flow),) = campaign.flows()
    assert stage == "surfaces"
    assert flow.jobs[0].metadata["interfacial"]["calculator"] == "Fake"


def test_sevennet_engine_names_its_model_in_every_relaxation():
    # No sevenn import needed to build makers: only running them loads the model.
    engine = engines.get("calculator", "sevennet")
    surface = engine.surface_energy_maker(InterfacialSettings())
    for maker in (surface.bulk_relax_maker, surface.slab_relax_maker):
        assert str(maker.force_field_name).endswith("SevenNet")  # atomate2 keeps its MLFF enum
        assert maker.calculator_kwargs == {"model": "7net-0"}
    assert surface.bulk_relax_maker.name == "SevenNet bulk relax"
    assert surface.calculator == "SevenNet"
    interface = engine.interface_energetics_maker(InterfacialSettings())
    assert interface.interface_relax_maker.name == "SevenNet interface relax"
    assert interface.calculator == "SevenNet"


def test_relaxations_keep_each_steps_energy_but_not_its_structure():
    """Per-step structures would be reloaded by every job that reads the output (load=True)."""
    from jobflow import JobStore, run_locally
    from maggma.stores import MemoryStore
    from pymatgen.core import Lattice, Structure

    engine = engines.calculator("CHGNet")
    # bcc Li, 2 atoms, strained by 4 %: a few FIRE steps to 0.05 eV/A.
    strained = Structure(Lattice.cubic(3.44 * 1.04), ["Li", "Li"], [[0, 0, 0], [0.5, 0.5, 0.5]])
    strained.perturb(0.05, min_distance=0.02)
    relax = engine.relax_maker("bulk relax", fmax=0.05).make(strained)
    store = JobStore(MemoryStore(), additional_stores={"data": MemoryStore()})
    run_locally(relax, store=store, create_folders=False, log=False, ensure_success=True)
    out = store.get_output(relax.uuid, load=True)
    steps = out["output"]["ionic_steps"]
    assert len(steps) >= 2
    energies = [s["energy"] for s in steps]
    assert all(isinstance(e, float) for e in energies)
    assert energies[-1] == pytest.approx(out["output"]["energy"])
    assert all(s.get("structure") is None and s.get("forces") is None for s in steps)
    # What later jobs read is still there.
    assert len(out["structure"]["sites"]) == 2
    assert len(out["output"]["forces"]) == 2
