"""MTP fits: progress while they run, a potential file that reads back exactly, and training
sets whose bad labels are named where the user wrote them.

Small real motep fits (4 cells, level 2, 3 iterations: about a second) on Morse-labelled data.
"""

from __future__ import annotations

import logging
import stat
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
from ase.calculators.singlepoint import SinglePointCalculator
from ase.io import write

from interfacial.errors import InterfacialError
from interfacial.mtp import engine as engine_module
from interfacial.mtp.cfg import write_cfg
from interfacial.mtp.engine import FITTED_FILE, MLPBinaryEngine, MotepEngine
from interfacial.mtp.mtpfile import MOTEP_DIGITS, first_difference, format_mtp
from interfacial.mtp.progress import MOTEP_LOGGER, FitLines, FitStatus
from interfacial.settings import InterfacialSettings
from mtp_data import SPECIES_ORDER, configurations

# --- progress -----------------------------------------------------------------------------------


def test_motep_fit_reports_every_iteration_with_loss_and_errors(tmp_path, capfd):
    statuses: list[FitStatus] = []
    logger = logging.getLogger(MOTEP_LOGGER)
    before = (logger.level, logger.propagate, list(logger.handlers))
    MotepEngine(max_iter=3).fit(
        configurations(4, seed=1),
        SPECIES_ORDER,
        level=2,
        workdir=tmp_path,
        progress=statuses.append,
    )
    stages = [s.stage for s in statuses]
    assert stages[0] == "pair potential" and stages[-1] == "linear solve"
    bfgs = [s for s in statuses if s.stage == "L-BFGS-B"]
    assert [s.iteration for s in bfgs] == [0, 1, 2, 3]
    assert all(s.max_iter == 3 for s in bfgs)
    for status in statuses:
        assert status.loss is not None and np.isfinite(status.loss)
        assert status.energy_rmse is not None and status.force_rmse is not None
    # The final linear solve leaves a potential near the Morse labels (RMSE in meV).
    assert statuses[-1].force_rmse < 50.0
    assert "iteration 3/3" in bfgs[-1].describe() and "loss" in bfgs[-1].describe()
    # motep's logger is left as it was, and nothing was printed by the engine itself.
    assert (logger.level, logger.propagate, list(logger.handlers)) == before
    out, err = capfd.readouterr()
    assert out == "" and err == ""


def _fit_mtp(tmp_path: Path, show_progress: bool) -> dict:
    from interfacial.api import fit_mtp

    train = tmp_path / "tiny.extxyz"
    write(train, configurations(4, seed=1))
    settings = InterfacialSettings(data_dir=tmp_path / f"db-{show_progress}")
    return fit_mtp(train, level=2, max_iter=3, settings=settings, show_progress=show_progress)


def test_fit_mtp_shows_its_iterations_on_stderr_only_with_progress(tmp_path, capfd):
    output = _fit_mtp(tmp_path, show_progress=True)
    out, err = capfd.readouterr()
    assert output["level"] == 2
    assert out == ""  # stdout is for results
    lines = [line for line in err.splitlines() if "tiny level 2 fit:" in line]
    assert any("L-BFGS-B iteration 3/3" in line and "loss " in line for line in lines), err
    assert any("force RMSE" in line and "elapsed" in line for line in lines), err
    _fit_mtp(tmp_path, show_progress=False)
    out, err = capfd.readouterr()
    assert out == "" and err == ""


def test_plain_lines_show_each_stage_start_end_and_time_left():
    class Console:
        def __init__(self) -> None:
            self.lines: list[str] = []

        def print(self, text: str, **_: object) -> None:
            self.lines.append(text)

    console = Console()
    lines = FitLines("fit", console, interval=3600.0)
    for k in range(6):
        lines(FitStatus("L-BFGS-B", k, 100, loss=1.0 / (k + 1)))
    lines(FitStatus("linear solve", 0, 1, loss=0.1))
    lines.flush()
    # Stage starts and ends; nothing in between within the interval.
    assert [line.split(": ", 1)[1].split(",")[0] for line in console.lines] == [
        "L-BFGS-B iteration 0/100",
        "L-BFGS-B iteration 5/100",
        "linear solve iteration 0/1",
    ]
    assert "left" in console.lines[1] and "elapsed" in console.lines[1]


def _fake_mlp(directory: Path, body: str) -> Path:
    script = directory / "mlp"
    script.write_text(f"#!{sys.executable}\n" + textwrap.dedent(body))
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    return script


def test_mlp_progress_is_streamed_line_by_line(tmp_path):
    """A stand-in mlp prints BFGS lines and waits until the first one has been reported."""
    seed_fit = MotepEngine(max_iter=3).fit(
        configurations(4, seed=1), SPECIES_ORDER, level=2, workdir=tmp_path / "seed"
    )
    trained = tmp_path / "trained.mtp"
    trained.write_text(seed_fit.text)
    marker = tmp_path / "seen"
    _fake_mlp(
        tmp_path,
        f"""
        import shutil, sys, time
        from pathlib import Path
        print("MTPR training started", flush=True)
        print("BFGS iter 0: f=0.75", flush=True)
        deadline = time.time() + 20
        while not Path({str(marker)!r}).exists() and time.time() < deadline:
            time.sleep(0.05)
        print("BFGS iter 1: f=0.5", flush=True)
        print("BFGS iter 2: f=0.25", flush=True)
        out = next(a for a in sys.argv if a.startswith("--trained-pot-name="))
        shutil.copy({str(trained)!r}, out.split("=", 1)[1])
        """,
    )
    statuses: list[FitStatus] = []

    def report(status: FitStatus) -> None:
        statuses.append(status)
        marker.touch()  # lets the stand-in go on: the line arrived while it was running

    engine = MLPBinaryEngine(command=str(tmp_path / "mlp"), max_iter=2, timeout=60)
    potential = engine.fit(
        configurations(4, seed=1), SPECIES_ORDER, level=2, workdir=tmp_path / "w", progress=report
    )
    assert potential.text == seed_fit.text
    assert [(s.stage, s.iteration, s.max_iter, s.loss) for s in statuses] == [
        ("mlp train", 0, 2, 0.75),
        ("mlp train", 1, 2, 0.5),
        ("mlp train", 2, 2, 0.25),
    ]
    log = (tmp_path / "w" / "mlp_train.log").read_text()
    assert "MTPR training started" in log and "BFGS iter 2" in log


def test_streamed_run_that_overruns_its_timeout_is_stopped(tmp_path):
    from interfacial.commands import run_captured

    _fake_mlp(tmp_path, "import time\nprint('BFGS iter 0: f=1', flush=True)\ntime.sleep(30)\n")
    seen: list[str] = []
    with pytest.raises(InterfacialError, match=r"did not finish within 0\.5 s"):
        run_captured(
            [str(tmp_path / "mlp")],
            cwd=tmp_path,
            timeout=0.5,
            what="mlp train",
            advice="raise the timeout",
            on_line=seen.append,
        )
    assert seen == ["BFGS iter 0: f=1"]


# --- the written potential ----------------------------------------------------------------------


def test_tiny_fit_reads_back_to_the_same_coefficients_in_motep_layout(tmp_path):
    from motep.io.mlip.mtp import read_mtp, write_mtp

    potential = MotepEngine(max_iter=3).fit(
        configurations(4, seed=1), SPECIES_ORDER, level=2, workdir=tmp_path
    )
    data = read_mtp(tmp_path / FITTED_FILE)
    # Every digit: writing what was read gives the same text again.
    assert format_mtp(data) == potential.text
    # motep's own legacy writer gives the same layout, line by line, at its 16 digits.
    write_mtp(tmp_path / "motep.mtp", data, legacy=True)
    assert format_mtp(data, MOTEP_DIGITS) == (tmp_path / "motep.mtp").read_text()
    assert first_difference(data, read_mtp(tmp_path / "motep.mtp")) is not None  # rounded


def _corrupting(monkeypatch, change) -> None:
    real = engine_module.format_mtp
    monkeypatch.setattr(engine_module, "format_mtp", lambda data: change(real(data)))


def _swap_species_coeffs(text: str) -> str:
    head, rest = text.split("species_coeffs = {", 1)
    values, tail = rest.split("}", 1)
    a, b = values.split(", ")
    return f"{head}species_coeffs = {{{b}, {a}}}{tail}"


def _drop_last_moment_coeff(text: str) -> str:
    head, rest = text.split("moment_coeffs = {", 1)
    values, tail = rest.split("}", 1)
    kept = ", ".join(values.split(", ")[:-1])
    return f"{head}moment_coeffs = {{{kept}}}{tail}"


def _rounded(text: str) -> str:
    import re

    return re.sub(r"(\d\.\d{15})\d(e[-+]\d+)", r"\1\2", text)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (_swap_species_coeffs, r"species_coeffs\[0\] is .* in the file, .* in the fit"),
        (_drop_last_moment_coeff, r"inconsistent: moment_coeffs has 1 numbers, expected 2"),
        (_rounded, r"does not hold the fitted coefficients: .*values differ"),
    ],
)
def test_a_wrong_potential_file_is_caught_and_named(tmp_path, monkeypatch, change, message):
    _corrupting(monkeypatch, change)
    with pytest.raises(InterfacialError, match=message) as info:
        MotepEngine(max_iter=3).fit(
            configurations(4, seed=1), SPECIES_ORDER, level=4, workdir=tmp_path
        )
    assert str(tmp_path / FITTED_FILE) in str(info.value)


def test_a_species_order_that_does_not_map_onto_the_file_is_caught(tmp_path, monkeypatch):
    real = engine_module.motep_calculator

    def swapped(potential, backend="cext"):
        flipped = type(potential)(
            text=potential.text,
            species_order=tuple(reversed(potential.species_order)),
            level=potential.level,
            cutoff=potential.cutoff,
            engine=potential.engine,
            engine_version=potential.engine_version,
        )
        return real(flipped, backend)

    monkeypatch.setattr(engine_module, "motep_calculator", swapped)
    with pytest.raises(InterfacialError, match=r"species order .* does not map onto"):
        MotepEngine(max_iter=3).fit(
            configurations(4, seed=1), SPECIES_ORDER, level=2, workdir=tmp_path
        )


# --- bad labels, named where the user wrote them ------------------------------------------------


def _broken(field: str, value: float = float("nan")):
    frames = configurations(4, seed=1)
    atoms = frames[2]
    results = dict(atoms.calc.results)
    if field == "energy":
        results["energy"] = value
    else:
        results[field] = np.array(results[field], dtype=float)
        results[field].flat[4] = value  # forces: atom 2
    atoms.calc = SinglePointCalculator(atoms, **results)
    return frames


@pytest.mark.parametrize(
    ("suffix", "field", "named"),
    [
        (".extxyz", "energy", "non-finite energy"),
        (".extxyz", "forces", "non-finite forces on atom 2"),
        (".extxyz", "stress", "non-finite stress"),
        (".traj", "energy", "non-finite energy"),
        (".traj", "forces", "non-finite forces on atom 2"),
    ],
)
def test_non_finite_labels_name_the_file_configuration_and_field(tmp_path, suffix, field, named):
    from interfacial.api import fit_mtp

    path = tmp_path / f"train{suffix}"
    write(path, _broken(field))
    settings = InterfacialSettings(data_dir=tmp_path / "db")
    with pytest.raises(InterfacialError) as info:
        fit_mtp(path, level=2, settings=settings, show_progress=False)
    message = str(info.value)
    assert message.startswith(f"training set {path}: configuration 3 ("), message
    assert named in message and "\n" not in message
    assert not (tmp_path / "db").exists()  # refused before anything is written
    # As a validation set too.
    good = tmp_path / "good.extxyz"
    write(good, configurations(4, seed=2))
    with pytest.raises(InterfacialError, match=f"^validation set {path}: configuration 3 "):
        fit_mtp(good, validation=[path], level=2, settings=settings, show_progress=False)


def test_non_finite_energy_in_a_cfg_names_the_file_line_and_configuration(tmp_path):
    from interfacial.api import fit_mtp

    path = write_cfg(configurations(4, seed=1), tmp_path / "train.cfg", SPECIES_ORDER)
    blocks = path.read_text().split("BEGIN_CFG")
    blocks[3] = blocks[3].replace(" Energy\n", " Energy\n nan\n#", 1)
    blocks[3] = "\n".join(line for line in blocks[3].split("\n") if not line.startswith("#"))
    path.write_text("BEGIN_CFG".join(blocks))
    settings = InterfacialSettings(data_dir=tmp_path / "db")
    with pytest.raises(InterfacialError) as info:
        fit_mtp(path, species=SPECIES_ORDER, level=2, settings=settings, show_progress=False)
    message = str(info.value)
    assert message.startswith(f"{path}: line ")
    assert "the energy of configuration 3 is not finite" in message
    assert not (tmp_path / "db").exists()


def test_non_finite_energy_in_a_stored_set_names_the_system(tmp_path, monkeypatch):
    import interfacial.api.potentials as api_potentials
    from interfacial.api import fit_mtp

    cfg = tmp_path / "stored.cfg"
    write_cfg(_broken("energy"), cfg, SPECIES_ORDER)
    monkeypatch.setattr(
        api_potentials,
        "stored_training_sets",
        lambda system, settings: (cfg.read_text(), {}, list(SPECIES_ORDER)),
    )
    settings = InterfacialSettings(data_dir=tmp_path / "db")
    with pytest.raises(InterfacialError) as info:
        fit_mtp("store:Li2S", level=2, settings=settings, show_progress=False)
    message = str(info.value)
    assert message.startswith("the stored reference MD training set of Li2S: line "), message
    assert "energy of configuration 3 is not finite" in message
    assert str(tmp_path) not in message  # never the temporary file it was read from
