"""Interrupted runs never reach the derived collections, and the run that finished last wins.

A run killed part way (or one whose job failed, as a FIZZLED Firework) leaves the documents of
the jobs it finished. The builders must build only flows whose terminal job is stored (the Wulff
job, the interface energetics, the Arrhenius summary), whatever order the builds run in, and the
queries must rank runs by when they finished, not by when a builder wrote their documents.

Real flows with cheap engines: ASE's EMT on Cu for surfaces (thickness chains that really
converge), a zero-force coordination-count toy for the Li|LiCl interface flow (EMT has no Li;
only the orchestration matters there). The kill is a BaseException raised by the job store just
before the (k+1)-th document is written: nothing is caught on its way out and nothing after it is
stored, as with SIGKILL. The last test kills the real command line with SIGKILL (slow).
"""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import pytest
from ase.calculators.calculator import Calculator, all_changes
from atomate2.forcefields.jobs import ForceFieldRelaxMaker
from maggma.stores import MemoryStore
from pymatgen.core import Lattice, Structure

from interfacial.builders.diffusion import ArrheniusBuilder, DiffusionBuilder
from interfacial.errors import InterfacialError
from interfacial.schemas.roles import Role
from interfacial.settings import InterfacialSettings


class Killed(BaseException):
    """Stands for SIGKILL: ``except Exception`` (jobflow's, ours) does not catch it."""


class FailingEMT(Calculator):
    """EMT that raises for cells of ``n_atoms`` atoms (one slab of the flow fails)."""

    implemented_properties: ClassVar[list[str]] = ["energy", "free_energy", "forces", "stress"]

    def __init__(self, n_atoms: int) -> None:
        from ase.calculators.emt import EMT

        super().__init__()
        self.n_atoms = n_atoms
        self.emt = EMT()

    def calculate(self, atoms=None, properties=("energy",), system_changes=all_changes):
        super().calculate(atoms, properties, system_changes)
        if len(self.atoms) == self.n_atoms:
            raise RuntimeError("engine crashed")
        self.emt.calculate(self.atoms, properties, system_changes)
        self.results = dict(self.emt.results)


@dataclass
class EMTRelaxMaker(ForceFieldRelaxMaker):
    """atomate2's force-field relaxation with ASE's EMT (module level: jobflow imports it)."""

    name: str = "EMT relax"
    force_field_name: str = "Forcefield"
    steps: int = 300
    fail_n_atoms: int = 0

    def _get_calculator(self) -> Calculator:
        from ase.calculators.emt import EMT

        return FailingEMT(self.fail_n_atoms) if self.fail_n_atoms else EMT()


#: eV per atom of the toy engine, and its bond energy (eV) within BOND_CUTOFF (A).
TOY_ENERGY = {"Li": -1.9, "Cl": -1.4}
TOY_BOND, BOND_CUTOFF = -0.05, 3.2


class ToyCalculator(Calculator):
    """Zero forces and stress; energy by element and nearest-neighbour bonds (relaxes at once)."""

    implemented_properties: ClassVar[list[str]] = ["energy", "free_energy", "forces", "stress"]

    def calculate(self, atoms=None, properties=("energy",), system_changes=all_changes):
        from ase.neighborlist import neighbor_list

        super().calculate(atoms, properties, system_changes)
        bonds = len(neighbor_list("i", self.atoms, BOND_CUTOFF)) / 2
        energy = sum(TOY_ENERGY[s] for s in self.atoms.get_chemical_symbols()) + TOY_BOND * bonds
        self.results = {
            "energy": energy,
            "free_energy": energy,
            "forces": np.zeros((len(self.atoms), 3)),
            "stress": np.zeros(6),
        }


@dataclass
class ToyRelaxMaker(ForceFieldRelaxMaker):
    """atomate2's force-field relaxation with :class:`ToyCalculator`."""

    name: str = "toy relax"
    force_field_name: str = "Forcefield"

    def _get_calculator(self) -> Calculator:
        return ToyCalculator()


def copper() -> Structure:
    return Structure(
        Lattice.cubic(3.6), ["Cu"] * 4, [[0, 0, 0], [0.5, 0.5, 0], [0.5, 0, 0.5], [0, 0.5, 0.5]]
    )


def surface_flow(fail_n_atoms: int = 0) -> Any:
    from interfacial.flows.surface import SurfaceEnergyMaker

    maker = SurfaceEnergyMaker(
        bulk_relax_maker=EMTRelaxMaker(relax_cell=True),
        slab_relax_maker=EMTRelaxMaker(relax_cell=False, fail_n_atoms=fail_n_atoms),
        calculator="EMT",
        max_index=1,
        min_thickness=4.0,
        max_thickness=12.0,
        vacuum=10.0,
    )
    return maker.make(copper(), "Cu")


def run(flow: Any, settings: InterfacialSettings, kill_after: int | None = None, **kill) -> None:
    """Run ``flow`` into the settings' store; kill it after ``kill_after`` documents, or just
    before the first document whose role is ``kill['before_role']``."""
    from interfacial.runner import run_flow
    from interfacial.stores import get_job_store

    store = get_job_store(settings)
    write = store.update
    written = []

    def update(docs: Any, *args: Any, **kwargs: Any) -> Any:
        metadata = docs.metadata if hasattr(docs, "metadata") else docs.get("metadata")
        role = ((metadata or {}).get("interfacial") or {}).get("role")
        if len(written) == kill_after or role == kill.get("before_role"):
            raise Killed
        written.append(docs)
        return write(docs, *args, **kwargs)

    store.update = update  # type: ignore[method-assign]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        run_flow(flow, store, settings.data_dir / "runs", show_progress=False)


def tasks(settings: InterfacialSettings, criteria: dict[str, Any]) -> list[dict[str, Any]]:
    from interfacial.stores import get_job_store

    store = get_job_store(settings).docs_store
    store.connect()
    try:
        return list(store.query(criteria))
    finally:
        store.close()


def own_gammas(settings: InterfacialSettings, bulk_uuid: str) -> dict[str, float]:
    """gamma of each termination as the flow itself computed it (its final thickness step)."""
    return {
        d["output"]["surface_id"]: d["output"]["surface_energy"]
        for d in tasks(settings, {"metadata.interfacial.role": "surface"})
        if isinstance(d.get("output"), dict)
        and d["output"].get("surface_energy") is not None
        and d["output"]["bulk_uuid"] == bulk_uuid
        and d["output"].get("converged")
    }


def test_killed_and_failed_surface_runs_are_never_promoted(tmp_path: Path) -> None:
    from interfacial.api import build, query_surface_materials, query_surfaces
    from interfacial.flows.surface import bulk_relaxation
    from interfacial.stores import SURFACES, derived_store

    settings = InterfacialSettings(data_dir=tmp_path / "db")
    first = surface_flow()
    run(first, settings)
    killed = surface_flow()
    with pytest.raises(Killed):
        run(killed, settings, kill_after=5)  # bulk, facets, fan-out and two slabs: (100), (110)
    assert len(tasks(settings, {"metadata.interfacial.role": "slab"})) > 2
    # The first slab of (1,1,0) (the only cell of 8 atoms) crashes: a FIZZLED Firework's flow.
    # jobflow still starts the Wulff job (it does not see the failure through the nested chain
    # flows), which fails on the missing reference: no terminal document either way.
    failed = surface_flow(fail_n_atoms=8)
    with pytest.raises(InterfacialError, match=r"slab relax Cu \(1,1,0\) t0 n2: RuntimeError"):
        run(failed, settings)
    last = surface_flow()
    run(last, settings)
    bulks = {name: bulk_relaxation(f).uuid for name, f in [("first", first), ("last", last)]}
    unfinished = {bulk_relaxation(f).uuid for f in (killed, failed)}
    # The failed flow's other chains converged: their documents look complete, one by one.
    assert any(
        d["output"]["bulk_uuid"] == bulk_relaxation(failed).uuid and d["output"]["converged"]
        for d in tasks(settings, {"metadata.interfacial.role": "surface"})
        if isinstance(d.get("output"), dict) and d["output"].get("converged") is not None
    )

    # As `interfacial surfaces` does (this run only), then `interfacial build` (everything):
    # the older runs are built last, their last_updated is the newest.
    assert build(settings, query={"uuid": bulks["last"]})["surfaces"] == 1
    assert build(settings)["surfaces"] == 1  # the first run; never the killed or failed one

    shown = query_surfaces(settings=settings)
    assert {d["bulk_uuid"] for d in shown} == {bulks["last"]}
    assert sorted(d["miller_index"] for d in shown) == [[1, 0, 0], [1, 1, 0], [1, 1, 1]]
    assert all(d["converged"] for d in shown)
    gammas = own_gammas(settings, bulks["last"])
    assert {d["surface_id"]: d["surface_energy"] for d in shown} == pytest.approx(gammas, abs=1e-9)
    stored = query_surfaces(settings=settings, latest_only=False)
    assert {d["bulk_uuid"] for d in stored} == set(bulks.values())
    assert not unfinished & {d["bulk_uuid"] for d in query_surface_materials(settings)}
    last_done = max(
        d["completed_at"]
        for d in tasks(settings, {"metadata.interfacial.role": "surface_material"})
    )
    assert {d["flow_completed_at"] for d in shown} == {last_done}
    assert build(settings) == {
        "surfaces": 0,
        "interfaces": 0,
        "screening": 0,
        "diffusion": 0,
        "arrhenius": 0,
    }

    # Documents an earlier version built from the killed run are withdrawn by the next build.
    surfaces = derived_store(SURFACES, "surface_id", settings)
    surfaces.connect()
    legacy = {**shown[0], "surface_id": "legacy", "bulk_uuid": bulk_relaxation(killed).uuid}
    legacy.pop("flow_completed_at")
    surfaces.update([legacy], key="surface_id")
    surfaces.close()
    assert build(settings)["surfaces"] == 1
    assert "legacy" not in {d["surface_id"] for d in query_surfaces(settings=settings)}
    assert len(query_surfaces(settings=settings, latest_only=False)) == len(stored)
    assert build(settings)["surfaces"] == 0


def interface_flow() -> Any:
    from interfacial.flows.interface import InterfaceEnergeticsMaker
    from interfacial.flows.surface import SurfaceEnergyMaker
    from interfacial.structures.library import load_structure

    surface = SurfaceEnergyMaker(
        bulk_relax_maker=ToyRelaxMaker(relax_cell=True),
        slab_relax_maker=ToyRelaxMaker(relax_cell=False),
        calculator="toy",
        min_thickness=6.0,
        vacuum=10.0,
    )
    maker = InterfaceEnergeticsMaker(
        surface_maker=surface,
        interface_relax_maker=ToyRelaxMaker(relax_cell=False),
        strained_bulk_relax_maker=ToyRelaxMaker(relax_cell=False),
        calculator="toy",
        metal_thickness=3.0,
        compound_thickness=3.0,
        registries=[[0.0, 0.0], [0.5, 0.5]],
        gaps=[2.0],
        max_atoms=120,
    )
    return maker.make(
        load_structure("Li"), load_structure("LiCl"), [1, 0, 0], [1, 0, 0], "Li", "LiCl"
    )


def test_interface_flow_killed_before_its_energetics_is_never_promoted(tmp_path: Path) -> None:
    from interfacial.api import build, query_interfaces
    from interfacial.flows.interface import bulk_relaxations
    from interfacial.stores import INTERFACES, derived_store

    settings = InterfacialSettings(data_dir=tmp_path / "db")
    # Killed when every model and both strained bulks are stored, before the energetics job:
    # each group looks complete document by document.
    killed = interface_flow()
    with pytest.raises(Killed):
        run(killed, settings, before_role=Role.INTERFACE_ENERGETICS.value)
    killed_bulk = bulk_relaxations(killed)["metal"].uuid
    killed_models = tasks(settings, {"metadata.interfacial.role": "interface"})
    assert killed_models
    assert len(tasks(settings, {"metadata.interfacial.role": "strained_bulk"})) == 2
    assert build(settings)["interfaces"] == 0

    done = interface_flow()
    run(done, settings)
    done_bulk = bulk_relaxations(done)["metal"].uuid
    assert build(settings)["interfaces"] == 1
    shown = query_interfaces(settings=settings, lowest_only=False, latest_only=False)
    assert {d["metal_bulk_uuid"] for d in shown} == {done_bulk}
    own = {
        d["model_id"]: d
        for t in tasks(settings, {"metadata.interfacial.role": "interface_energetics"})
        for d in t["output"]
    }
    assert {d["model_id"] for d in shown} == set(own)
    for d in shown:
        assert d["E_f"] == pytest.approx(own[d["model_id"]]["E_f"], abs=1e-12)
    (terminal,) = tasks(settings, {"metadata.interfacial.role": "interface_energetics"})
    assert {d["flow_completed_at"] for d in shown} == {terminal["completed_at"]}
    assert build(settings)["interfaces"] == 0

    # A document an earlier version built from the killed flow is withdrawn.
    interfaces = derived_store(INTERFACES, "model_id", settings)
    interfaces.connect()
    keys = killed_models[0]["metadata"]["interfacial"]
    legacy = {**shown[0], "model_id": "legacy", "interface_id": keys["interface_id"]}
    legacy.update(metal_bulk_uuid=killed_bulk, flow_completed_at=None)
    interfaces.update([legacy], key="model_id")
    interfaces.close()
    assert build(settings)["interfaces"] == 1
    assert {d["model_id"] for d in query_interfaces(settings=settings, lowest_only=False)} == set(
        own
    )


# ----------------------------------------------------------------------------- transport


def _md(uuid: str, flow: str, temperature: float, completed_at: str) -> dict[str, Any]:
    """A stored transport MD task of ``flow`` (its output from the synthetic walks)."""
    from test_diffusion_builders import document

    doc = document(temperature, seed=int(temperature))
    return {
        "uuid": uuid,
        "index": 1,
        "completed_at": completed_at,
        "hosts": [flow],
        "metadata": {
            "interfacial": {
                "role": Role.DIFFUSION_MD.value,
                "system": doc.system,
                "temperature": temperature,
                "fit_window": None,
            }
        },
        "output": doc.model_dump(),
    }


def _summary(flow: str, completed_at: str) -> dict[str, Any]:
    return {
        "uuid": f"summary-{flow}",
        "index": 1,
        "completed_at": completed_at,
        "hosts": [flow],
        "metadata": {"interfacial": {"role": Role.ARRHENIUS_SUMMARY.value, "system": "walk"}},
        "output": [],
    }


def test_transport_runs_promote_only_finished_flows_newest_first() -> None:
    tasks_store = MemoryStore(key="uuid")
    diffusion = MemoryStore(key="diffusion_id")
    arrhenius = MemoryStore(key="arrhenius_id")
    tasks_store.connect()

    def build() -> tuple[int, int]:
        counts = []
        for builder in (
            DiffusionBuilder(tasks_store, diffusion),
            ArrheniusBuilder(diffusion, arrhenius),
        ):
            builder.connect()
            items = [builder.process_item(i) for i in builder.get_items()]
            builder.update_targets(items)
            counts.append(len(items))
        return counts[0], counts[1]

    def sources() -> dict[float, str]:
        return {d["temperature"]: d["task_uuid"] for d in diffusion.query({})}

    # A finished ladder (600, 700 K), then a newer run killed after its 600 K job.
    tasks_store.update(
        [
            _md("a600", "flow-a", 600.0, "2026-01-01T10:00:00"),
            _md("a700", "flow-a", 700.0, "2026-01-01T10:05:00"),
            _summary("flow-a", "2026-01-01T10:05:01"),
            _md("b600", "flow-b", 600.0, "2026-01-02T10:00:00"),
            _md("b800", "flow-b", 800.0, "2026-01-02T10:05:00"),
        ],
        key="uuid",
    )
    assert build() == (2, 1)
    assert sources() == {600.0: "a600", 700.0: "a700"}
    fits = list(arrhenius.query({}))
    assert fits and all(f["temperatures"] == [600.0, 700.0] for f in fits if f["Ea"] is not None)
    assert {d["flow_completed_at"] for d in diffusion.query({})} == {"2026-01-01T10:05:01"}
    assert build() == (0, 0)

    # The killed run reruns to completion later: its documents replace the older run's.
    tasks_store.update(
        [
            _md("c600", "flow-c", 600.0, "2026-01-03T10:00:00"),
            _md("c700", "flow-c", 700.0, "2026-01-03T10:05:00"),
            _summary("flow-c", "2026-01-03T10:05:01"),
        ],
        key="uuid",
    )
    assert build() == (2, 1)
    assert sources() == {600.0: "c600", 700.0: "c700"}
    assert build() == (0, 0)

    # Documents an earlier version built from killed runs (the 800 K job of the second run, the
    # only job of a run on another system) are withdrawn, and the fits with them.
    solo = _md("d900", "flow-d", 900.0, "2026-01-04T10:00:00")
    solo["output"].update(system="solo", diffusion_id="solo|abc123|900K")
    tasks_store.update([solo], key="uuid")
    legacy = [
        {**t["output"], "task_uuid": t["uuid"], "source_fingerprint": "old"}
        for t in tasks_store.query({"uuid": {"$in": ["b800", "d900"]}})
    ]
    diffusion.update(legacy, key="diffusion_id")
    old_fits = ArrheniusBuilder(diffusion, arrhenius)
    old_fits.connect()
    old_fits.update_targets([old_fits.process_item(i) for i in old_fits.get_items()])
    assert arrhenius.query_one({"system": "solo"}) is not None
    assert build() == (2, 2)  # two withdrawn; 'walk' refitted, the fits of 'solo' dropped
    assert sources() == {600.0: "c600", 700.0: "c700"}
    assert arrhenius.query_one({"system": "solo"}) is None
    assert all(
        f["temperatures"] == [600.0, 700.0] for f in arrhenius.query({}) if f["Ea"] is not None
    )
    assert build() == (0, 0)


# ----------------------------------------------------------------------------- the command line

#: Documents (job outputs) stored by each killed run before SIGKILL: the run of the report
#: (bulk, facets, fan-out, the first slabs of (100) and (110)), then one in the thickness chains.
KILL_POINTS = (5, 11)
CLI = [sys.executable, "-c", "from interfacial.cli import main; main()"]


def cli_env(data_dir: Path) -> dict[str, str]:
    # One thread each: the reference runs beside the killed ones, and sums come out the same.
    src = str(Path(__file__).resolve().parents[1] / "src")
    return {
        **os.environ,
        "INTERFACIAL_DATA_DIR": str(data_dir),
        "HOME": str(data_dir.parent),
        "PYTHONPATH": os.pathsep.join([src, os.environ.get("PYTHONPATH", "")]),
        "OMP_NUM_THREADS": "1",
        "MKL_NUM_THREADS": "1",
    }


def stored_jobs(data_dir: Path) -> int:
    """Job documents in the embedded store, read with sqlite itself (the writer is running)."""
    path = data_dir / "interfacial" / "jobs.collection"
    if not path.exists():
        return 0
    try:
        with sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=5) as conn:
            return int(conn.execute("SELECT count(*) FROM documents").fetchone()[0])
    except sqlite3.OperationalError:  # the table is not created yet
        return 0


def surfaces_json(data_dir: Path) -> list[dict[str, Any]]:
    out = subprocess.run(
        [*CLI, "query", "surfaces", "--json"],
        env=cli_env(data_dir),
        capture_output=True,
        text=True,
        check=True,
    )
    return sorted(json.loads(out.stdout), key=lambda d: d["miller_index"])


@pytest.mark.slow
def test_sigkill_then_rerun_gives_the_uninterrupted_results(tmp_path: Path) -> None:
    command = [*CLI, "surfaces", "Li", "--max-index", "1", "--json"]
    reference_dir, data_dir = tmp_path / "reference" / "data", tmp_path / "killed" / "data"
    for d in (reference_dir, data_dir):
        d.parent.mkdir()
    reference = subprocess.Popen(
        command, env=cli_env(reference_dir), stdout=subprocess.PIPE, stderr=subprocess.DEVNULL
    )
    try:
        for k in KILL_POINTS:
            before = stored_jobs(data_dir)
            run = subprocess.Popen(
                command,
                env=cli_env(data_dir),
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            while stored_jobs(data_dir) < before + k:
                assert run.poll() is None, "the run ended before it could be killed"
                time.sleep(0.05)
            run.send_signal(signal.SIGKILL)
            assert run.wait() == -signal.SIGKILL
            assert stored_jobs(data_dir) >= before + k  # what was committed survived the kill
        # The killed runs left unconverged slabs: before the rerun, nothing is shown.
        build = subprocess.run(
            [*CLI, "build"], env=cli_env(data_dir), capture_output=True, text=True, check=True
        )
        assert build.stdout.startswith("rebuilt 0 material group(s)")
        assert surfaces_json(data_dir) == []
        rerun = subprocess.run(
            command, env=cli_env(data_dir), capture_output=True, text=True, check=True
        )
        from_rerun = sorted(json.loads(rerun.stdout), key=lambda d: d["miller_index"])
        build = subprocess.run(
            [*CLI, "build"], env=cli_env(data_dir), capture_output=True, text=True, check=True
        )
        assert build.stdout.startswith("rebuilt 0 material group(s)")  # the rerun built its own
        shown = surfaces_json(data_dir)
        stdout, _ = reference.communicate(timeout=1800)
    finally:
        if reference.poll() is None:
            reference.kill()
    assert reference.returncode == 0
    expected = sorted(json.loads(stdout), key=lambda d: d["miller_index"])
    assert [d["miller_index"] for d in expected] == [[1, 0, 0], [1, 1, 0], [1, 1, 1]]
    for got in (from_rerun, shown, surfaces_json(reference_dir)):
        assert [d["miller_index"] for d in got] == [d["miller_index"] for d in expected]
        assert all(d["converged"] for d in got)
        for mine, theirs in zip(got, expected, strict=True):
            assert mine["surface_energy"] == pytest.approx(theirs["surface_energy"], abs=1e-6)
            assert mine["n_atoms"] == theirs["n_atoms"]
    # The killed runs' documents are in the store, none of them built.
    settings = InterfacialSettings(data_dir=data_dir)
    assert len(tasks(settings, {"metadata.interfacial.role": "bulk"})) == 1 + len(KILL_POINTS)
    from interfacial.api import query_surfaces

    assert len({d["bulk_uuid"] for d in query_surfaces(settings=settings, latest_only=False)}) == 1


def _fit_doc(uuid: str, hosts: list[str], sha: str, when: str) -> dict[str, Any]:
    return {
        "uuid": uuid,
        "index": 1,
        "hosts": hosts,
        "completed_at": when,
        "metadata": {"interfacial": {"role": Role.MTP_FIT.value, "system": "X"}},
        "output": {"potential_sha256": sha, "system": "X"},
    }


def _round_doc(uuid: str, hosts: list[str], final_sha: str | None, when: str) -> dict[str, Any]:
    output: Any = (
        {"rounds": [], "final_fit": {"potential_sha256": final_sha}}
        if final_sha
        else {"@module": "jobflow.core.reference", "@class": "OutputReference", "uuid": "next"}
    )
    return {
        "uuid": uuid,
        "index": 1,
        "hosts": hosts,
        "completed_at": when,
        "metadata": {"interfacial": {"role": Role.ACTIVE_LEARNING.value, "round": 0}},
        "output": output,
    }


def test_store_potential_is_never_the_fit_of_an_unfinished_learning_run(tmp_path):
    """``store:SYSTEM`` skips fits of a learn-potential run killed before its last round."""
    from interfacial.api.results import _newest_output
    from interfacial.stores import get_job_store

    settings = InterfacialSettings(data_dir=tmp_path / "db")
    store = get_job_store(settings)
    store.connect()
    docs = [
        # A complete learning run: fit a, its last round names a as the final fit.
        _fit_doc("fa", ["learn-a"], "sha-a", "2026-01-01T10:00:00"),
        _round_doc("ra", ["learn-a"], "sha-a", "2026-01-01T10:30:00"),
        # A later run killed during active learning: its fit b is newer, its round unfinished.
        _fit_doc("fb", ["learn-b"], "sha-b", "2026-01-02T10:00:00"),
        _round_doc("rb", ["learn-b"], None, "2026-01-02T10:10:00"),
    ]
    store.docs_store.update(docs, key="uuid")
    store.close()

    def newest() -> str:
        doc = _newest_output(Role.MTP_FIT, "X", settings)
        assert doc is not None
        return str(doc["output"]["potential_sha256"])

    assert newest() == "sha-a"
    # The killed run is rerun to its end: its final round names b.
    store.connect()
    store.docs_store.update(
        [_round_doc("rb2", ["learn-b"], "sha-b", "2026-01-02T11:00:00")], "uuid"
    )
    store.close()
    assert newest() == "sha-b"
    # A plain fit (fit-mtp: the fit is its flow's last job) finished later wins.
    store.connect()
    store.docs_store.update([_fit_doc("fc", ["fit-c"], "sha-c", "2026-01-03T10:00:00")], "uuid")
    store.close()
    assert newest() == "sha-c"
