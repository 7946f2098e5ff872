"""The engine-independent MTP core: .cfg files, basis, potential files, engine plumbing, metrics."""

from __future__ import annotations

import json
import stat
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
from ase import Atoms
from ase.calculators.lj import LennardJones
from ase.calculators.singlepoint import SinglePointCalculator

from interfacial import engines
from interfacial.errors import InterfacialError
from interfacial.mtp.basis import (
    SUPPORTED_LEVELS,
    Contraction,
    moment_basis,
    untrained_mtp_text,
)
from interfacial.mtp.cfg import check_training_set, read_cfg, write_cfg
from interfacial.mtp.defaults import DEFAULT_WEIGHTS
from interfacial.mtp.engine import MLPBinaryEngine, MotepEngine, MTPEngine
from interfacial.mtp.metrics import (
    errors_between,
    errors_on,
    meets_targets,
    predict,
    rmse_energy_per_atom,
    rmse_forces,
    rmse_stress,
)
from interfacial.mtp.parity import parity_figure
from interfacial.mtp.potential import MTPPotential, parse_mtp_header
from mtp_data import SPECIES_ORDER, configurations

# --- .cfg files ---------------------------------------------------------------------------------


def test_cfg_round_trip_keeps_everything_to_the_printed_precision(tmp_path):
    configs = configurations(3, seed=7)
    configs[1].info["features"] = {"source": "md 1000 K seg 2", "temperature": "1000"}
    molecule = Atoms("LiS", positions=[[0, 0, 0], [0, 0, 2.3]])  # non-periodic: no Supercell
    molecule.calc = SinglePointCalculator(molecule, energy=-6.5, forces=[[0, 0, 0.1], [0, 0, -0.1]])
    configs.append(molecule)
    path = write_cfg(configs, tmp_path / "train.cfg", SPECIES_ORDER)
    back = read_cfg(path, SPECIES_ORDER)

    assert len(back) == len(configs)
    for original, read in zip(configs, back, strict=True):
        assert read.get_chemical_symbols() == original.get_chemical_symbols()
        assert np.array_equal(read.pbc, original.pbc)
        np.testing.assert_allclose(read.positions, original.positions, atol=1e-10)
        np.testing.assert_allclose(read.cell.array, original.cell.array, atol=1e-10)
        assert read.get_potential_energy() == pytest.approx(
            original.get_potential_energy(), abs=1e-12
        )
        np.testing.assert_allclose(read.get_forces(), original.get_forces(), atol=1e-10)
        if original.pbc.all():
            # PlusStress holds -stress*V with 10 decimals (eV): the stress to 1e-10 eV / V.
            np.testing.assert_allclose(
                read.get_stress(), original.get_stress(), atol=1e-10 / original.get_volume()
            )
        else:
            assert "stress" not in read.calc.results
    assert back[1].info["features"] == configs[1].info["features"]
    # Written again, the file is the same: nothing drifts at the printed precision.
    again = write_cfg(back, tmp_path / "again.cfg", SPECIES_ORDER)
    assert again.read_text() == path.read_text()


def test_cfg_types_follow_the_given_species_order(tmp_path):
    atoms = Atoms(
        "LiLiS", positions=[[0, 0, 0], [2.5, 0, 0], [0, 2.5, 0]], cell=[5, 5, 5], pbc=True
    )
    atoms.calc = SinglePointCalculator(atoms, energy=-1.0, forces=np.zeros((3, 3)))
    text = write_cfg([atoms], tmp_path / "a.cfg", ["S", "Li"]).read_text()
    rows = text.split("AtomData:")[1].splitlines()[1:4]
    assert [int(r.split()[1]) for r in rows] == [1, 1, 0]  # Li is type 1, S type 0
    # Another order gives other types, and reading with it restores the elements.
    write_cfg([atoms], tmp_path / "b.cfg", ["Li", "S"])
    assert read_cfg(tmp_path / "b.cfg", ["Li", "S"])[0].get_chemical_symbols() == ["Li", "Li", "S"]


def test_plus_stress_is_minus_stress_times_volume_as_in_motep(tmp_path):
    """A compressed Lennard-Jones crystal: ASE stress < 0, so MLIP's PlusStress > 0."""
    from motep.io.mlip.cfg import read_cfg as motep_read_cfg
    from motep.io.mlip.cfg import write_cfg as motep_write_cfg

    atoms = Atoms(
        "Li4",
        scaled_positions=[[0, 0, 0], [0.5, 0.5, 0], [0.5, 0, 0.5], [0, 0.5, 0.5]],
        cell=np.eye(3) * 3.0,
        pbc=True,
    )
    atoms.calc = LennardJones(sigma=2.5, epsilon=0.1, rc=4.5)
    stress = atoms.get_stress()
    assert np.all(stress[:3] < 0)
    atoms.calc = SinglePointCalculator(
        atoms, energy=atoms.get_potential_energy(), forces=atoms.get_forces(), stress=stress
    )
    ours = write_cfg([atoms], tmp_path / "ours.cfg", ["Li"])
    plus = [float(x) for x in ours.read_text().split("PlusStress:")[1].splitlines()[1].split()]
    np.testing.assert_allclose(plus, -stress * atoms.get_volume(), atol=1e-9)
    assert all(p > 0 for p in plus[:3])
    # motep's reader agrees with our writer, and our reader with motep's writer.
    (theirs_read,) = motep_read_cfg(str(ours), index=":", species=["Li"])
    np.testing.assert_allclose(theirs_read.get_stress(), stress, atol=1e-10)
    motep_write_cfg(str(tmp_path / "motep.cfg"), [atoms], species=["Li"])
    (ours_read,) = read_cfg(tmp_path / "motep.cfg", ["Li"])
    np.testing.assert_allclose(ours_read.get_stress(), stress, atol=1e-5 / atoms.get_volume())


def test_cfg_refuses_unlabelled_configurations_and_foreign_species(tmp_path):
    bare = Atoms("Li2", positions=[[0, 0, 0], [2.5, 0, 0]], cell=[5, 5, 5], pbc=True)
    with pytest.raises(InterfacialError, match="carries no energy and forces"):
        write_cfg([bare], tmp_path / "x.cfg", ["Li"])
    forces_only = bare.copy()
    forces_only.calc = SinglePointCalculator(forces_only, forces=np.zeros((2, 3)))
    with pytest.raises(InterfacialError, match=r"configuration 1 .* has no energy"):
        write_cfg([forces_only], tmp_path / "x.cfg", ["Li"])
    energy_only = bare.copy()
    energy_only.calc = SinglePointCalculator(energy_only, energy=-3.0)
    with pytest.raises(InterfacialError, match="has no forces"):
        write_cfg([energy_only], tmp_path / "x.cfg", ["Li"])
    # Candidates for labelling may be written without labels when asked.
    write_cfg([bare], tmp_path / "candidates.cfg", ["Li"], require_labels=False)
    assert "Energy" not in (tmp_path / "candidates.cfg").read_text()

    labelled = configurations(1, seed=3)
    with pytest.raises(InterfacialError, match=r"not in species_order \['Li'\]"):
        write_cfg(labelled, tmp_path / "x.cfg", ["Li"])
    for order, message in (([], "empty"), (["Li", "Li"], "twice"), (["Li", "Xx"], "non-element")):
        with pytest.raises(InterfacialError, match=message):
            write_cfg(labelled, tmp_path / "x.cfg", order)


CORRUPTIONS = [
    # (what is replaced, by what, the error expected, the line it names)
    ("       -3", "       -x", "is not a number", None),
    ("END_CFG", "", "ends where END_CFG", None),
    (" Energy", " Enrgy", "unknown entry 'Enrgy'", None),
    ("BEGIN_CFG", "BEGIN", "expected BEGIN_CFG", 1),
]


@pytest.mark.parametrize(("old", "new", "message", "line"), CORRUPTIONS)
def test_corrupt_cfg_names_the_line(tmp_path, old, new, message, line):
    path = write_cfg(configurations(1, seed=4), tmp_path / "c.cfg", SPECIES_ORDER)
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new, 1))
    with pytest.raises(InterfacialError, match=message) as info:
        read_cfg(path, SPECIES_ORDER)
    assert f"{path}: line " in str(info.value)
    if line is not None:
        assert f"line {line}:" in str(info.value)


def test_cfg_error_for_a_bad_row_points_at_that_row(tmp_path):
    path = write_cfg(configurations(1, seed=4), tmp_path / "c.cfg", SPECIES_ORDER)
    lines = path.read_text().splitlines()
    row = next(k for k, line in enumerate(lines) if line.startswith(" AtomData")) + 3
    lines[row] = lines[row].rsplit(maxsplit=1)[0]  # drop the last column of the third atom
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(InterfacialError, match=f"line {row + 1}: expected 8 numbers"):
        read_cfg(path, SPECIES_ORDER)


def test_cfg_types_beyond_the_species_order_and_missing_files(tmp_path):
    path = write_cfg(configurations(2, seed=5), tmp_path / "c.cfg", SPECIES_ORDER)
    with pytest.raises(InterfacialError, match=r"has types \[1\].*defines types 0 to 0"):
        read_cfg(path, ["S"])
    with pytest.raises(InterfacialError, match=r"no .cfg file"):
        read_cfg(tmp_path / "missing.cfg", SPECIES_ORDER)


def test_check_training_set():
    configs = configurations(2, seed=6)
    check_training_set(configs, SPECIES_ORDER)
    with pytest.raises(InterfacialError, match="at least 2 labelled configurations, got 1"):
        check_training_set(configs[:1], SPECIES_ORDER)
    broken = configs[1].copy()
    broken.calc = SinglePointCalculator(broken, energy=float("nan"), forces=configs[1].get_forces())
    with pytest.raises(InterfacialError, match=r"configuration 2 \(.*\) has a non-finite energy"):
        check_training_set([configs[0], broken], SPECIES_ORDER)
    with pytest.raises(InterfacialError, match="not in species_order"):
        check_training_set(configs, ["Li"])


# --- the moment basis ---------------------------------------------------------------------------

# Numbers of basis functions of MLIP's templates 02.mtp ... 14.mtp (and of motep's precomputed
# moment lists, which agree with them). From level 16 MLIP also lists linearly dependent
# contractions (92, 163 for levels 16, 18), which this basis leaves out.
BASIS_SIZES = {2: 1, 4: 2, 6: 5, 8: 9, 10: 16, 12: 29, 14: 52, 16: 91, 18: 161}


@pytest.mark.parametrize(("level", "size"), BASIS_SIZES.items())
def test_basis_sizes(level, size):
    basis = moment_basis(level)
    assert basis.alpha_scalar_moments == size
    assert all(c.level <= level and len(c.nodes) <= 4 for c in basis.contractions)


def test_level_16_leaves_out_a_cayley_hamilton_dependent_function():
    from interfacial.mtp.basis import enumerate_contractions

    kept = set(moment_basis(16).contractions)
    (dropped,) = [c for c in enumerate_contractions(16) if c not in kept]
    assert dropped.nodes == ((0, 2),) * 4  # (M02:M02)^2 or tr(M02^4): one implies the other


def test_level_10_basis_has_mlip_sizes():
    basis = moment_basis(10)
    assert basis.alpha_moments_count == 41  # as MLIP's 10.mtp
    assert len(basis.alpha_index_basic) == 25
    assert basis.radial_funcs_count == 3


def _direct_value(contraction: Contraction, directions: np.ndarray, radial: np.ndarray) -> float:
    """A contraction evaluated with full Cartesian tensors and einsum, for one neighbourhood."""
    letters = iter("abcdefghijklmnopqrstuvwxyz")
    legs: list[list[str]] = [[] for _ in contraction.nodes]
    for i, j, m in contraction.edges:
        for _ in range(m):
            letter = next(letters)
            legs[i].append(letter)
            legs[j].append(letter)
    tensors = []
    for mu, nu in contraction.nodes:
        tensor = np.zeros((3,) * nu)
        for direction, f in zip(directions, radial[mu], strict=True):
            outer = np.array(1.0)
            for _ in range(nu):
                outer = np.multiply.outer(outer, direction)
            tensor = tensor + f * outer
        tensors.append(tensor)
    spec = ",".join("".join(leg) for leg in legs) + "->"
    return float(np.einsum(spec, *tensors))


def _program_values(level: int, directions: np.ndarray, radial: np.ndarray) -> np.ndarray:
    """The scalar basis functions evaluated the way mlp and motep read the file's lists."""
    basis = moment_basis(level)
    moments = np.zeros(basis.alpha_moments_count)
    for k, (mu, a, b, c) in enumerate(basis.alpha_index_basic):
        moments[k] = np.sum(
            radial[mu] * directions[:, 0] ** a * directions[:, 1] ** b * directions[:, 2] ** c
        )
    for i, j, mult, k in basis.alpha_index_times:
        assert i < k and j < k  # evaluation order
        moments[k] += mult * moments[i] * moments[j]
    return moments[list(basis.alpha_moment_mapping)]


@pytest.mark.parametrize("level", [6, 8, 10, 12, 14, 16])
def test_compiled_basis_equals_the_contractions_it_lists(level):
    """Each listed function is, up to a constant factor, its contraction evaluated directly."""
    basis = moment_basis(level)
    rng = np.random.default_rng(level)
    direct, compiled = [], []
    for _ in range(3):
        directions = rng.normal(size=(7, 3))
        directions /= np.linalg.norm(directions, axis=1, keepdims=True)
        radial = rng.normal(size=(basis.radial_funcs_count, 7))
        compiled.append(_program_values(level, directions, radial))
        direct.append([_direct_value(c, directions, radial) for c in basis.contractions])
    # The mapping is sorted by moment; match each contraction to its compiled function by the
    # ratio being the same on every neighbourhood.
    compiled_arr, direct_arr = np.array(compiled), np.array(direct)
    for k in range(len(basis.contractions)):
        ratios = compiled_arr / direct_arr[:, [k]]
        spread = np.ptp(ratios, axis=0) / np.abs(ratios[0])
        assert np.any(spread < 1e-9), (
            f"{basis.contractions[k]} is not computed by the compiled lists"
        )


def test_template_is_read_by_motep_and_our_parser(tmp_path):
    from motep.io.mlip.mtp import read_mtp

    text = untrained_mtp_text(8, 2, 2.1, 5.0)
    header = parse_mtp_header(text)
    assert (header.species_count, header.min_dist, header.max_dist) == (2, 2.1, 5.0)
    assert header.level == 8
    assert not header.trained
    (tmp_path / "init.mtp").write_text(text)
    data = read_mtp(tmp_path / "init.mtp")
    assert data.alpha_scalar_moments == 9
    assert data.radial_basis.min == 2.1
    assert data.radial_basis.size == 8
    np.testing.assert_array_equal(data.alpha_moment_mapping, moment_basis(8).alpha_moment_mapping)


def test_unsupported_levels_and_ranges():
    assert 10 in SUPPORTED_LEVELS
    with pytest.raises(ValueError, match="level 7 is not supported"):
        moment_basis(7)
    with pytest.raises(ValueError, match="min_dist < max_dist"):
        untrained_mtp_text(6, 1, 5.0, 5.0)


# --- potentials ---------------------------------------------------------------------------------


def _trained_text(tmp_path: Path, *, legacy: bool = True, level: int = 6, species: int = 2) -> str:
    """A potential with random coefficients, written by motep."""
    from motep.io.mlip.mtp import read_mtp, write_mtp

    (tmp_path / "init.mtp").write_text(untrained_mtp_text(level, species, 2.0, 5.0))
    data = read_mtp(tmp_path / "init.mtp")
    data.species = [16, 3][:species]
    data.initialize(np.random.default_rng(0))
    write_mtp(tmp_path / "trained.mtp", data, legacy=legacy)
    return (tmp_path / "trained.mtp").read_text()


def test_potential_round_trips_through_file_and_dict(tmp_path):
    text = _trained_text(tmp_path)
    potential = MTPPotential(
        text=text,
        species_order=["S", "Li"],
        level=6,
        cutoff=5.0,
        engine="motep",
        engine_version="0.2.0",
        weights=(100, 10, 1),
        seed=0,
    )
    assert potential.species_order == ("S", "Li")
    assert len(potential.sha256) == 64
    assert potential.header.trained
    path = potential.write(tmp_path / "out" / "pot.mtp")
    again = MTPPotential.from_file(path, ["S", "Li"], engine="motep", engine_version="0.2.0")
    assert again.sha256 == potential.sha256
    assert again.level == 6  # from the name written with the template
    assert again.cutoff == 5.0
    document = json.loads(json.dumps(potential.as_dict()))
    assert MTPPotential.from_dict(document) == potential
    # jobflow serialises with monty: the object comes back, not a dict.
    from monty.json import MontyDecoder, MontyEncoder

    assert MontyDecoder().decode(json.dumps(potential, cls=MontyEncoder)) == potential
    document["text"] = document["text"].replace("MTP_level6", "MTP_level6 ")
    with pytest.raises(InterfacialError, match="does not match its sha256"):
        MTPPotential.from_dict(document)


def test_legacy_file_reads_back_with_the_same_energies(tmp_path):
    """motep's legacy layout reproduces the in-memory potential; its default one is unreadable."""
    from motep.calculator import make_calculator
    from motep.io.mlip.mtp import read_mtp, write_mtp

    (tmp_path / "init.mtp").write_text(untrained_mtp_text(8, 2, 2.0, 5.0))
    data = read_mtp(tmp_path / "init.mtp")
    data.species = [16, 3]
    data.initialize(np.random.default_rng(1))
    write_mtp(tmp_path / "legacy.mtp", data, legacy=True)
    potential = MTPPotential.from_file(tmp_path / "legacy.mtp", SPECIES_ORDER)
    reread = MotepEngine().calculator(potential)
    for atoms in configurations(3, seed=8):
        a, b = atoms.copy(), atoms.copy()
        a.calc, b.calc = make_calculator(data), reread
        assert b.get_potential_energy() == pytest.approx(a.get_potential_energy(), abs=1e-8)
        np.testing.assert_allclose(b.get_forces(), a.get_forces(), atol=1e-8)

    write_mtp(tmp_path / "new.mtp", data)  # motep 0.2.0's default layout
    with pytest.raises(KeyError):
        read_mtp(tmp_path / "new.mtp")  # motep cannot read its own default output
    with pytest.raises(InterfacialError, match=r"legacy=True"):
        MTPPotential.from_file(tmp_path / "new.mtp", SPECIES_ORDER)


def test_bad_potential_files_are_refused_with_the_reason(tmp_path):
    text = _trained_text(tmp_path)
    common = {"species_order": ["S", "Li"], "level": 6, "cutoff": 5.0, "engine": "x"}
    common["engine_version"] = "1"
    with pytest.raises(InterfacialError, match="first line is not 'MTP'"):
        MTPPotential(text="hello\n", **common)
    no_mapping = "\n".join(
        line for line in text.splitlines() if not line.startswith("alpha_moment_mapping")
    )
    with pytest.raises(InterfacialError, match=r"missing \['alpha_moment_mapping'\]"):
        MTPPotential(text=no_mapping, **common)
    start = text.index("moment_coeffs = {") + len("moment_coeffs = {")
    diverged = text[:start] + "nan, " + text[start:].split(", ", 1)[1]
    with pytest.raises(InterfacialError, match="moment_coeffs are not all finite"):
        MTPPotential(text=diverged, **common)
    with pytest.raises(InterfacialError, match="untrained template"):
        MTPPotential(text=untrained_mtp_text(6, 2, 2.0, 5.0), **common)
    with pytest.raises(InterfacialError, match="2 species but species_order"):
        MTPPotential(text=text, **{**common, "species_order": ["Li"]})
    with pytest.raises(InterfacialError, match=r"cutoff 4.0 A differs"):
        MTPPotential(text=text, **{**common, "cutoff": 4.0})
    with pytest.raises(InterfacialError, match="level 8 differs"):
        MTPPotential(text=text, **{**common, "level": 8})
    short = text.replace("alpha_scalar_moments = 5", "alpha_scalar_moments = 6")
    with pytest.raises(InterfacialError, match="inconsistent: alpha_moment_mapping has 5"):
        MTPPotential(text=short, **common)
    with pytest.raises(InterfacialError, match=r"no .mtp file"):
        MTPPotential.from_file(tmp_path / "nothing.mtp", ["S", "Li"])


# --- engines: protocol, registry and the mlp binary (faked) -------------------------------------


def test_engines_follow_the_protocol_and_are_found_by_name():
    assert set(engines.names("fit")) == {"motep", "mlp"}
    for name in engines.names("fit"):
        assert isinstance(engines.get("fit", name).build(), MTPEngine)
    mlp = engines.get("fit", "MLP").build({"command": "/opt/mlp", "mpi_prefix": "srun"})
    assert mlp.command == "/opt/mlp"
    assert MotepEngine().version() == "0.2.0"
    with pytest.raises(InterfacialError, match="unknown MTP engine 'lammps'"):
        engines.get("fit", "lammps")
    with pytest.raises(InterfacialError, match="bad option for the motep engine"):
        engines.get("fit", "motep").build({"command": "mlp"})


def _fake_mlp(directory: Path, body: str) -> Path:
    """An executable Python script standing in for MLIP's mlp."""
    script = directory / "mlp"
    script.write_text(f"#!{sys.executable}\n" + textwrap.dedent(body))
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    return script


def test_mlp_engine_runs_mlp_train_and_reads_its_potential(tmp_path, monkeypatch):
    trained = tmp_path / "prepared.mtp"
    trained.write_text(_trained_text(tmp_path, level=6))
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    _fake_mlp(
        bin_dir,
        f"""
        import json, shutil, sys
        from pathlib import Path
        json.dump(sys.argv[1:], open("argv.json", "w"))
        assert Path(sys.argv[2]).read_text().startswith("MTP"), "no initial potential"
        assert "BEGIN_CFG" in Path(sys.argv[3]).read_text(), "no training set"
        out = next(a for a in sys.argv if a.startswith("--trained-pot-name="))
        shutil.copy({str(trained)!r}, out.split("=", 1)[1])
        print("fitted")
        """,
    )
    # A launcher that runs the rest of its command line, as mpirun -np N would.
    launcher = bin_dir / "fakempirun"
    launcher.write_text('#!/bin/sh\nshift 2\nexec "$@"\n')
    launcher.chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}:{Path(sys.executable).parent}:/usr/bin:/bin")

    engine = MLPBinaryEngine(command="mlp", mpi_prefix="fakempirun -np 2")
    potential = engine.fit(
        configurations(4, seed=9), SPECIES_ORDER, level=6, seed=3, workdir=tmp_path / "fit"
    )
    argv = json.loads((tmp_path / "fit" / "argv.json").read_text())
    assert argv == [
        "train",
        "init.mtp",
        "train.cfg",
        "--trained-pot-name=fitted.mtp",
        "--energy-weight=100",
        "--force-weight=10",
        "--stress-weight=1",
    ]
    assert potential.engine == "mlp"
    assert potential.engine_version.startswith("sha256:")
    assert potential.weights == DEFAULT_WEIGHTS
    assert potential.seed is None  # mlp train takes no seed
    assert potential.text == trained.read_text()
    assert "fitted" in (tmp_path / "fit" / "mlp_train.log").read_text()
    # The training file lists the configurations with the potential's species order.
    assert len(read_cfg(tmp_path / "fit" / "train.cfg", SPECIES_ORDER)) == 4
    atoms = configurations(1, seed=10)[0]
    atoms.calc = engine.calculator(potential)
    assert np.isfinite(atoms.get_potential_energy())


def test_mlp_engine_failure_shows_stderr(tmp_path, monkeypatch):
    _fake_mlp(
        tmp_path,
        """
        import sys
        print("reading training set", flush=True)
        sys.stderr.write("ERROR: Species count in init.mtp and train.cfg mismatch\\n")
        sys.exit(3)
        """,
    )
    # The command as a submitted job carries it: expanded on the machine that runs the fit.
    monkeypatch.setenv("WORKER_MLP", str(tmp_path / "mlp"))
    engine = MLPBinaryEngine(command="${WORKER_MLP}")
    with pytest.raises(InterfacialError) as info:
        engine.fit(configurations(3, seed=11), SPECIES_ORDER, level=6, workdir=tmp_path / "w")
    message = str(info.value)
    assert "exit code 3" in message
    assert "Species count in init.mtp and train.cfg mismatch" in message
    assert not (tmp_path / "w" / "fitted.mtp").exists()


def test_mlp_engine_refuses_a_diverged_potential(tmp_path):
    text = _trained_text(tmp_path, level=6)
    start = text.index("species_coeffs = {") + len("species_coeffs = {")
    (tmp_path / "nan.mtp").write_text(text[:start] + "nan, " + text[start:].split(", ", 1)[1])
    _fake_mlp(
        tmp_path,
        f"""
        import shutil, sys
        out = next(a for a in sys.argv if a.startswith("--trained-pot-name="))
        shutil.copy({str(tmp_path / "nan.mtp")!r}, out.split("=", 1)[1])
        """,
    )
    engine = MLPBinaryEngine(command=str(tmp_path / "mlp"))
    with pytest.raises(InterfacialError, match="species_coeffs are not all finite"):
        engine.fit(configurations(3, seed=12), SPECIES_ORDER, level=6, workdir=tmp_path / "w")


def test_mlp_engine_missing_binary_and_bad_inputs(tmp_path):
    engine = MLPBinaryEngine(command=str(tmp_path / "no-such-mlp"))
    with pytest.raises(InterfacialError, match=r"mlp command .* was not found"):
        engine.fit(configurations(3, seed=13), SPECIES_ORDER, workdir=tmp_path)
    with pytest.raises(InterfacialError, match=r"MPI launcher .* was not found"):
        MLPBinaryEngine(mpi_prefix="no-such-mpirun -np 4").fit(
            configurations(3, seed=13), SPECIES_ORDER, workdir=tmp_path
        )
    motep = MotepEngine()
    with pytest.raises(InterfacialError, match="level 7 is not available"):
        motep.fit(configurations(3, seed=14), SPECIES_ORDER, level=7, workdir=tmp_path)
    with pytest.raises(InterfacialError, match="weights are"):
        motep.fit(configurations(3, seed=14), SPECIES_ORDER, weights=(1, -1, 0), workdir=tmp_path)
    with pytest.raises(InterfacialError, match="at least 2"):
        motep.fit(configurations(1, seed=14), SPECIES_ORDER, workdir=tmp_path)


# --- metrics and parity plots -------------------------------------------------------------------


def test_rmse_functions_by_hand():
    # Energies off by 8 meV on 8 atoms and -16 meV on 4 atoms: 1 and -4 meV/atom.
    assert rmse_energy_per_atom([-10.0, -5.0], [-9.992, -5.016], [8, 4]) == pytest.approx(
        np.sqrt((1 + 16) / 2)
    )
    forces = [np.zeros((2, 3)), np.zeros((1, 3))]
    shifted = [np.full((2, 3), 0.03), np.full((1, 3), -0.03)]
    assert rmse_forces(forces, shifted) == pytest.approx(30.0)
    assert rmse_stress(np.zeros((2, 6)), np.full((2, 6), 0.01)) == pytest.approx(
        1.602176634, rel=1e-6
    )  # 0.01 eV/A^3 = 1.602 GPa
    with pytest.raises(InterfacialError):
        rmse_energy_per_atom([1.0], [1.0, 2.0], [1])
    with pytest.raises(InterfacialError):
        rmse_forces(forces, shifted[:1])


def test_errors_on_and_targets():
    configs = configurations(4, seed=15)
    from mtp_data import labelled, morse

    exact = errors_on(morse(), [labelled(a, morse()) for a in configs])
    assert exact["force_rmse"] == pytest.approx(0.0, abs=1e-9)
    assert exact["stress_rmse"] == pytest.approx(0.0, abs=1e-9)
    # The reference energies include per-element constants the bare Morse lacks.
    offsets = [(a.get_potential_energy() - p.get_potential_energy()) / len(a)
               for a, p in zip(configs, predict(morse(), configs), strict=True)]  # fmt: skip
    assert exact["energy_rmse"] == pytest.approx(1000 * np.sqrt(np.mean(np.square(offsets))))
    assert exact["n_configurations"] == 4
    assert exact["n_atoms"] == 32
    assert meets_targets({"energy_rmse": 9.9, "force_rmse": 29.0})
    assert not meets_targets({"energy_rmse": 10.1, "force_rmse": 1.0})
    assert not meets_targets({"energy_rmse": 1.0, "force_rmse": 31.0})
    assert meets_targets({"energy_rmse": 4.0, "force_rmse": 50.0}, energy=5.0, force=60.0)
    with pytest.raises(InterfacialError, match="same"):
        errors_between(configs, configs[:2])


def test_parity_figure(tmp_path):
    from mtp_data import morse

    train, validation = configurations(4, seed=16), configurations(3, seed=17)
    path = parity_figure(
        {"train": train, "validation": validation},
        {"train": predict(morse(), train), "validation": predict(morse(), validation)},
        tmp_path / "figs" / "parity.png",
    )
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    with pytest.raises(InterfacialError, match="same set names"):
        parity_figure({"train": train}, {"validation": train}, tmp_path / "x.png")


def test_motep_fit_that_diverges_returns_nothing(tmp_path, monkeypatch):
    import motep.optimizers

    class Diverging:
        """Stands in for a motep optimizer whose result is NaN."""

        def __init__(self, loss, **_):
            self.loss = loss

        def optimize(self, **_):
            self.loss.mtp_data.parameters = np.full_like(self.loss.mtp_data.parameters, np.nan)

    monkeypatch.setattr(motep.optimizers, "make_optimizer", lambda _: Diverging)
    with pytest.raises(InterfacialError, match="the motep fit diverged"):
        MotepEngine().fit(configurations(3, seed=18), SPECIES_ORDER, level=4, workdir=tmp_path)
    assert not (tmp_path / "fitted.mtp").exists()
