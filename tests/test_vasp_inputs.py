"""VASP inputs of the surface flow follow the study's settings (VASP itself is faked).

The run step is replaced where atomate2 imports it, so each job writes its real INCAR, KPOINTS,
POSCAR and POTCAR.spec and stops. The inputs are checked against the study's rules computed here
independently, and against reference inputs committed in tests/reference/vasp.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
from pymatgen.io.vasp import Incar, Kpoints, Poscar

from interfacial import engines
from interfacial.errors import InterfacialError
from interfacial.settings import get_settings
from interfacial.structures.library import load_structure
from interfacial.structures.slabs import build_slab, enumerate_terminations

REFERENCE = Path(__file__).parent / "reference" / "vasp"
#: 2 pi (25 per A^-3)^(1/3): divisions x length (A) for the study's k-point density.
REACH = 2 * math.pi * 25 ** (1 / 3)
STUDY_POTCARS = {"Li": "Li", "S": "S", "Cl": "Cl"}


class FakeVaspRunError(RuntimeError):
    """Raised by the fake run step after it has read the inputs."""


def run_until_vasp(maker, structure, monkeypatch, workdir: Path) -> dict[str, object]:
    """Run one atomate2 VASP job up to the point where VASP would start; return its inputs."""
    from jobflow import JobStore
    from maggma.stores import MemoryStore

    seen: dict[str, object] = {}

    def fake_run_vasp(**kwargs):
        seen["INCAR"] = Incar.from_file("INCAR")
        seen["KPOINTS"] = Kpoints.from_file("KPOINTS")
        seen["POSCAR"] = Poscar.from_file("POSCAR").structure
        seen["POTCAR"] = Path("POTCAR.spec").read_text().split()
        seen["run_vasp_kwargs"] = kwargs
        raise FakeVaspRunError

    monkeypatch.setattr("atomate2.vasp.jobs.base.run_vasp", fake_run_vasp)
    maker = maker.update_kwargs({"write_input_set_kwargs": {"potcar_spec": True}})
    workdir.mkdir()
    monkeypatch.chdir(workdir)
    job = maker.make(structure)
    with pytest.raises(FakeVaspRunError):
        job.run(store=JobStore(MemoryStore()))
    return seen


def vasp_flow_makers():
    settings = get_settings(vasp_cmd="srun -n 64 vasp_std")
    return engines.calculator("VASP").surface_energy_maker(settings, max_index=1)


def check_study_incar(incar: Incar, isif: int) -> None:
    assert incar["ENCUT"] == 520
    assert incar["EDIFF"] == pytest.approx(1e-5)
    assert incar["EDIFFG"] == pytest.approx(1e-4)  # positive: energy criterion
    assert incar["ISIF"] == isif
    assert incar["IBRION"] == 2
    assert incar["NSW"] > 0
    assert incar["ICHARG"] == 2  # a fresh job has no CHGCAR to read
    assert incar["ISMEAR"] == 0


def compare_with_reference(name: str, seen: dict[str, object]) -> None:
    folder = REFERENCE / name
    reference_incar = Incar.from_file(folder / "INCAR")
    assert dict(seen["INCAR"]) == dict(reference_incar)
    reference_kpoints = Kpoints.from_file(folder / "KPOINTS")
    assert seen["KPOINTS"].kpts == reference_kpoints.kpts
    assert seen["KPOINTS"].style == reference_kpoints.style
    reference_structure = Poscar.from_file(folder / "POSCAR").structure
    assert seen["POSCAR"].species == reference_structure.species
    np.testing.assert_allclose(
        seen["POSCAR"].lattice.matrix, reference_structure.lattice.matrix, atol=1e-6
    )
    np.testing.assert_allclose(
        seen["POSCAR"].frac_coords, reference_structure.frac_coords, atol=1e-6
    )
    assert seen["POTCAR"] == (folder / "POTCAR.spec").read_text().split()


def test_bulk_relax_inputs(monkeypatch, tmp_path):
    maker = vasp_flow_makers().bulk_relax_maker
    bulk = load_structure("Li2S")  # conventional cubic cell, a = 5.708 A
    seen = run_until_vasp(maker, bulk, monkeypatch, tmp_path / "bulk")
    check_study_incar(seen["INCAR"], isif=3)
    # Cubic cell: divisions = floor(2 pi 25^(1/3) / a) along each axis.
    expected = math.floor(REACH / bulk.lattice.a)
    assert list(seen["KPOINTS"].kpts[0]) == [expected] * 3
    assert seen["POTCAR"] == [STUDY_POTCARS[e] for e in Poscar(seen["POSCAR"]).site_symbols]
    assert seen["run_vasp_kwargs"]["vasp_cmd"] == "srun -n 64 vasp_std"
    compare_with_reference("Li2S_bulk", seen)


@pytest.mark.parametrize(("name", "miller"), [("Li", (1, 1, 0)), ("LiCl", (1, 0, 0))])
def test_slab_relax_inputs(monkeypatch, tmp_path, name, miller):
    bulk = load_structure(name)
    termination = enumerate_terminations(bulk, miller).usable[0]
    slab = build_slab(bulk, miller, termination.shift, 3, 15.0)
    seen = run_until_vasp(vasp_flow_makers().slab_relax_maker, slab, monkeypatch, tmp_path / name)
    check_study_incar(seen["INCAR"], isif=2)
    assert "LDIPOL" not in seen["INCAR"]  # symmetric slabs: no dipole correction by default
    kpts = list(seen["KPOINTS"].kpts[0])
    assert kpts[2] == 1  # one k-point along the normal
    # In-plane divisions keep the bulk density: floor(2 pi 25^(1/3) / |a_i|).
    lengths = np.linalg.norm(slab.lattice.matrix[:2], axis=1)
    assert kpts[:2] == [math.floor(REACH / length) for length in lengths]
    assert seen["KPOINTS"].style.name == "Gamma"
    compare_with_reference(f"{name}_{''.join(map(str, miller))}_slab", seen)


def test_dipole_correction_is_centred_on_the_slab():
    from interfacial.vasp.flows import slab_relax_maker

    bulk = load_structure("Li2S")
    slab = build_slab(
        bulk, (1, 1, 1), enumerate_terminations(bulk, (1, 1, 1)).usable[0].shift, 2, 15.0
    )
    generator = slab_relax_maker(dipole_correction=True).input_set_generator
    incar = generator.get_input_set(slab, potcar_spec=True).incar
    assert incar["LDIPOL"] is True
    assert incar["IDIPOL"] == 3
    masses = np.array([site.specie.atomic_mass for site in slab])
    centre_z = float(np.sum(masses * slab.cart_coords[:, 2]) / masses.sum()) / slab.lattice.c
    assert incar["DIPOL"][2] == pytest.approx(centre_z, abs=1e-5)
    # The slab is centred in its cell: the dipole sits mid-cell along the normal.
    assert incar["DIPOL"][2] == pytest.approx(0.5, abs=0.05)


def test_vasp_that_cannot_run_here_is_refused_before_any_job():
    settings = get_settings(vasp_cmd="mpirun -np 4 no_such_vasp_std")
    with pytest.raises(InterfacialError, match=r"no_such_vasp_std.*INTERFACIAL_VASP_CMD"):
        engines.calculator("VASP").check_can_run_locally(settings)
    engines.calculator("CHGNet").check_can_run_locally(
        settings
    )  # the embedded default needs no engine


def test_interface_and_strained_bulk_relax_only_along_the_normal(monkeypatch, tmp_path):
    settings = get_settings(vasp_cmd="srun vasp_std")
    maker = engines.calculator("VASP").interface_energetics_maker(settings)
    # Any periodic cell exercises the input set; a thick LiCl(100) stack stands in for a model.
    bulk = load_structure("LiCl")
    for relax_maker, name in (
        (maker.interface_relax_maker, "interface"),
        (maker.strained_bulk_relax_maker, "strained"),
    ):
        seen = run_until_vasp(relax_maker, bulk, monkeypatch, tmp_path / name)
        check_study_incar(seen["INCAR"], isif=3)
        assert list(seen["INCAR"]["LATTICE_CONSTRAINTS"]) == [False, False, True]
        # Periodic along the normal (no vacuum): the bulk density along every axis.
        expected = math.floor(REACH / bulk.lattice.a)
        assert list(seen["KPOINTS"].kpts[0]) == [expected] * 3
        assert seen["run_vasp_kwargs"]["vasp_cmd"] == "srun vasp_std"
    # The surface flow inside uses the slab set (one k-point along the normal).
    slab_set = maker.surface_maker.slab_relax_maker.input_set_generator
    assert type(slab_set).__name__ == "StudySlabRelaxSetGenerator"


def test_aimd_inputs_follow_the_study(monkeypatch, tmp_path):
    from interfacial.vasp.flows import aimd_maker

    bulk = load_structure("Li2S") * (2, 2, 2)  # the study's 96-atom cell
    seen = run_until_vasp(aimd_maker(300, 1000, 1000), bulk, monkeypatch, tmp_path / "ramp")
    incar = seen["INCAR"]
    assert incar["ENCUT"] == 400
    assert incar["ICHARG"] == 2
    assert incar["IBRION"] == 0
    assert incar["MDALGO"] == 2  # Nose-Hoover
    assert incar["ISIF"] == 2  # NVT: fixed cell
    assert incar["POTIM"] == pytest.approx(2.0)
    assert (incar["TEBEG"], incar["TEEND"], incar["NSW"]) == (300, 1000, 1000)
    assert list(seen["KPOINTS"].kpts[0]) == [1, 1, 1]
    assert seen["KPOINTS"].style.name == "Gamma"
    assert "NELECT" not in incar  # neutral cell: VASP's own count
    compare_with_reference("Li2S_aimd_ramp", seen)


def test_aimd_with_a_charged_vacancy_sets_nelect(monkeypatch, tmp_path):
    from interfacial.vasp.flows import aimd_maker

    bulk = load_structure("Li2S") * (2, 2, 2)
    defect = bulk.copy()
    defect.remove_sites([next(i for i, s in enumerate(defect) if s.specie.symbol == "Li")])
    defect.set_charge(-1)  # a Li+ vacancy: the Li's electron stays in the cell
    seen = run_until_vasp(aimd_maker(1000, 1000, 10), defect, monkeypatch, tmp_path / "vacancy")
    # Study POTCARs: Li s1p0 (1 valence electron), S s2p4 (6); one extra electron.
    n_li = sum(s.specie.symbol == "Li" for s in defect)
    n_s = sum(s.specie.symbol == "S" for s in defect)
    assert seen["INCAR"]["NELECT"] == pytest.approx(1 * n_li + 6 * n_s + 1)


def test_interface_model_and_strained_bulk_inputs(monkeypatch, tmp_path):
    """A real Li(110)||LiCl(100) model (built deterministically) against committed inputs."""
    from interfacial.structures.interfaces import build_interface_models
    from interfacial.structures.matching import find_matches
    from interfacial.structures.supercells import strained_bulk

    li, licl = load_structure("Li"), load_structure("LiCl")
    thin = {"metal_thickness": 5.0, "compound_thickness": 5.0}
    candidate = find_matches(li, licl, [1, 1, 0], [1, 0, 0], **thin)[0]
    model = build_interface_models(li, licl, candidate, registries=[[0, 0]], **thin)[0]
    strained, _ = strained_bulk(li, [1, 1, 0], candidate.metal_matrix, candidate.compound_vectors)
    maker = engines.calculator("VASP").interface_energetics_maker(
        get_settings(vasp_cmd="srun vasp_std")
    )
    for relax_maker, structure, name in (
        (maker.interface_relax_maker, model.structure, "LiLiCl_interface"),
        (maker.strained_bulk_relax_maker, strained, "Li_strained_bulk"),
    ):
        seen = run_until_vasp(relax_maker, structure, monkeypatch, tmp_path / name)
        check_study_incar(seen["INCAR"], isif=3)
        assert list(seen["INCAR"]["LATTICE_CONSTRAINTS"]) == [False, False, True]
        # 25 per A^-3 of reciprocal cell: divisions floor(2 pi 25^(1/3) (abc / V)^(1/3) / L_i).
        lengths = structure.lattice.abc
        reach = REACH * (np.prod(lengths) / structure.volume) ** (1 / 3)
        assert list(seen["KPOINTS"].kpts[0]) == [max(1, math.floor(reach / x)) for x in lengths]
        compare_with_reference(name, seen)


def test_active_learning_labels_use_the_reference_md_settings(monkeypatch, tmp_path):
    from interfacial.vasp.flows import VaspLearnPotentialMaker

    maker = VaspLearnPotentialMaker()
    assert maker.fit_maker.engine == "mlp"
    assert maker.fit_maker.engine_options["command"] == "${INTERFACIAL_MLP_CMD}"
    cell = load_structure("Li2S")
    cell.remove_sites([0 if cell[0].specie.symbol == "Li" else 4])
    cell.set_charge(-1)
    seen = run_until_vasp(maker.label_maker, cell, monkeypatch, tmp_path / "label")
    incar = seen["INCAR"]
    assert (incar["ENCUT"], incar["NSW"]) == (400, 0)
    assert incar.get("IBRION", -1) == -1  # pymatgen drops IBRION for NSW = 0: VASP's default -1
    assert "EDIFFG" not in incar
    assert list(seen["KPOINTS"].kpts[0]) == [1, 1, 1]
    n_li = sum(s.specie.symbol == "Li" for s in cell)
    assert incar["NELECT"] == pytest.approx(n_li * 1 + 4 * 6 + 1)
