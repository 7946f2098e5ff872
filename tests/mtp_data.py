"""Labelled configurations with a known answer for MTP tests: a Morse pair potential on S/Li."""

from __future__ import annotations

import numpy as np
from ase import Atoms
from ase.calculators.morse import MorsePotential
from ase.calculators.singlepoint import SinglePointCalculator

SPECIES_ORDER = ["S", "Li"]  # deliberately not alphabetical
# Per-element reference energies (eV) added to the pair energy, so that the fit must also learn
# species coefficients; they do not change forces or stress.
REFERENCE_ENERGY = {"S": -4.1, "Li": -1.9}


def morse() -> MorsePotential:
    """The labelling potential: one Morse pair term for every pair, cut off smoothly at 4.5 A."""
    return MorsePotential(epsilon=0.3, r0=2.6, rho0=4.0, rcut1=3.5, rcut2=4.5)


def labelled(atoms: Atoms, calculator: MorsePotential) -> Atoms:
    """``atoms`` with a SinglePointCalculator holding the reference energy, forces and stress."""
    atoms = atoms.copy()
    atoms.calc = calculator
    energy = atoms.get_potential_energy() + sum(
        REFERENCE_ENERGY[s] for s in atoms.get_chemical_symbols()
    )
    forces, stress = atoms.get_forces(), atoms.get_stress()
    atoms.calc = SinglePointCalculator(atoms, energy=energy, forces=forces, stress=stress)
    return atoms


def configurations(n: int, seed: int, rattle: float = 0.1) -> list[Atoms]:
    """``n`` random 8-atom cells: simple cubic at the Morse minimum, strained and rattled."""
    rng = np.random.default_rng(seed)
    a = 2 * 2.6
    corners = [[0, 0, 0], [0.5, 0.5, 0], [0.5, 0, 0.5], [0, 0.5, 0.5]]
    centres = [[0.5, 0, 0], [0, 0.5, 0], [0, 0, 0.5], [0.5, 0.5, 0.5]]
    calculator = morse()
    out = []
    for _ in range(n):
        atoms = Atoms(
            symbols=list(rng.choice(["Li", "S"], size=8, p=[0.6, 0.4])),
            scaled_positions=corners + centres,
            cell=np.eye(3) * a,
            pbc=True,
        )
        atoms.set_cell(atoms.cell * (1 + rng.uniform(-0.04, 0.04)), scale_atoms=True)
        atoms.positions += rng.normal(scale=rattle, size=atoms.positions.shape)
        out.append(labelled(atoms, calculator))
    return out


def tiny_potential(workdir):
    """A level-4 MTP fitted in about a second on these cells: for plumbing, not accuracy."""
    from interfacial.mtp.engine import MotepEngine

    return MotepEngine(max_iter=30).fit(
        configurations(16, seed=1), SPECIES_ORDER, level=4, cutoff=4.5, seed=0, workdir=workdir
    )


def toy_cell():
    """A 64-atom S/Li pymatgen Structure near the training cells (2x2x2 of one of them)."""
    from pymatgen.io.ase import AseAtomsAdaptor

    atoms = configurations(1, seed=5, rattle=0.05)[0].repeat((2, 2, 2))
    return AseAtomsAdaptor.get_structure(atoms)
