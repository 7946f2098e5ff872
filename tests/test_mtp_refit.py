"""Refits start from the potential they refine (active learning), as ``mlp train current.mtp``.

Checked independently: the warm refit's first reported training-set RMSE is the starting
potential's own RMSE on the new set, evaluated by its ASE calculator outside the fit.
"""

from __future__ import annotations

import numpy as np
import pytest

from interfacial.errors import InterfacialError
from interfacial.mtp.basis import basis_covers
from interfacial.mtp.engine import MotepEngine
from interfacial.mtp.metrics import errors_on
from mtp_data import SPECIES_ORDER, configurations, labelled, morse


@pytest.fixture(scope="module")
def start(tmp_path_factory):
    """A level-4 potential on 16 cells and 8 new cells it has not seen."""
    engine = MotepEngine(max_iter=30)
    workdir = tmp_path_factory.mktemp("start")
    potential = engine.fit(
        configurations(16, seed=1), SPECIES_ORDER, level=4, cutoff=4.5, seed=0, workdir=workdir
    )
    return {"engine": engine, "potential": potential, "new": configurations(8, seed=7)}


def statuses(engine, training, tmp_path, **options):
    seen = []
    potential = engine.fit(
        training,
        SPECIES_ORDER,
        level=4,
        cutoff=4.5,
        seed=0,
        workdir=tmp_path,
        progress=seen.append,
        **options,
    )
    return potential, seen


def test_a_refit_starts_where_the_potential_left_off(start, tmp_path):
    training = configurations(16, seed=1) + start["new"]
    own = errors_on(start["engine"].calculator(start["potential"]), training)
    refit, seen = statuses(
        MotepEngine(max_iter=10), training, tmp_path / "warm", initial=start["potential"]
    )
    stages = [s.stage for s in seen]
    assert "pair potential" not in stages  # nothing solved from scratch first
    first = next(s for s in seen if s.stage == "L-BFGS-B" and s.iteration == 0)
    assert first.energy_rmse == pytest.approx(own["energy_rmse"], rel=1e-6)
    assert first.force_rmse == pytest.approx(own["force_rmse"], rel=1e-6)
    # L-BFGS-B only goes down from there; the refit is another potential of the same model.
    last = [s.loss for s in seen if s.stage == "L-BFGS-B"][-1]
    assert last <= first.loss
    assert refit.sha256 != start["potential"].sha256
    assert (refit.level, refit.cutoff, refit.species_order) == (4, 4.5, tuple(SPECIES_ORDER))

    # A fresh fit of the same set starts elsewhere: from the best pair potential.
    _, cold = statuses(MotepEngine(max_iter=10), training, tmp_path / "cold")
    assert cold[0].stage == "pair potential"
    cold_first = next(s for s in cold if s.stage == "L-BFGS-B" and s.iteration == 0)
    assert not np.isclose(cold_first.force_rmse, first.force_rmse, rtol=1e-3)


@pytest.mark.parametrize(
    ("level", "cutoff", "message"), [(6, 4.5, "not the model being fitted"), (4, 5.0, "cutoff")]
)
def test_a_starting_point_of_another_model_is_refused(start, tmp_path, level, cutoff, message):
    with pytest.raises(InterfacialError, match=message):
        start["engine"].fit(
            start["new"],
            SPECIES_ORDER,
            level=level,
            cutoff=cutoff,
            workdir=tmp_path,
            initial=start["potential"],
        )


def test_a_pair_closer_than_the_basis_starts_afresh(start, tmp_path, monkeypatch):
    """The fit job starts from the potential only if its radial basis reaches every pair."""
    monkeypatch.chdir(tmp_path)  # the job fits in its working directory, as jobflow runs it
    from interfacial.jobs.mtp import fit_mtp
    from interfacial.mtp.cfg import write_cfg

    potential = start["potential"]
    close = [a.copy() for a in start["new"][:2]]
    for atoms in close:
        atoms.positions[1] = atoms.positions[0] + [potential.header.min_dist - 0.3, 0, 0]
    close = [labelled(a, morse()) for a in close]
    first = configurations(16, seed=1)
    assert basis_covers(potential, first) and not basis_covers(potential, first + close)

    def run(training, name):
        cfg = write_cfg(training, tmp_path / f"{name}.cfg", SPECIES_ORDER).read_text()
        return fit_mtp.original(
            cfg, {}, SPECIES_ORDER, "toy", "motep", {"max_iter": 3}, 4, 4.5,
            [1.0, 0.01, 0.0], 0, None, potential.as_dict(),
        )  # fmt: skip

    assert run(first, "covered").initial_potential_sha256 == potential.sha256
    assert run(first + close, "closer").initial_potential_sha256 is None
