"""Interface energetics of a symmetric metal||compound model: E_f, sigma, strain energy, W_adhesion.

Every quantity is per area S of ONE interface: the periodic model holds two equivalent interfaces,
hence the 2S in the denominators. Energies in eV, areas in A^2, results in J/m^2.

Which gammas enter W: the surface energies of the relaxed, unstrained surfaces from the
surface-energy flow, of the terminations the model exposes at its interfaces. Eq. 4 pairs them
with sigma, whose references (bulks strained to the interface's in-plane lattice) remove the
elastic energy of the strained metal; Eq. 5 pairs them with E_f, which keeps it.
"""

from __future__ import annotations

from interfacial.analysis.surface import EV_PER_A2_TO_J_PER_M2

#: Literature threshold on W_adhesion for Li anodes (J/m^2): above it adhesion is strong.
DEFAULT_ADHESION_THRESHOLD = 0.7


def _per_two_interfaces(excess_energy: float, area: float) -> float:
    if area <= 0:
        raise ValueError(f"interface area must be positive, got {area} A^2")
    return excess_energy / (2.0 * area) * EV_PER_A2_TO_J_PER_M2


def formation_energy(
    interface_energy: float,
    n_metal: float,
    metal_energy: float,
    n_compound: float,
    compound_energy: float,
    area: float,
) -> float:
    """Formation energy of the interface, elastic strain included (J/m^2).

    E_f = (E_AB - N_A E_A - N_B E_B) / (2 S)

    Parameters
    ----------
    interface_energy : float
        E_AB, relaxed energy of the periodic two-interface model (eV).
    n_metal, metal_energy : float
        N_A, number of metal atoms, and E_A, energy per atom of the relaxed bulk metal (eV).
    n_compound, compound_energy : float
        N_B, number of compound formula units, and E_B, energy per formula unit of the relaxed
        bulk compound (eV).
    area : float
        S, area of one interface (A^2).

    """
    excess = interface_energy - n_metal * metal_energy - n_compound * compound_energy
    return _per_two_interfaces(excess, area)


def interfacial_energy(
    interface_energy: float,
    n_metal: float,
    strained_metal_energy: float,
    n_compound: float,
    strained_compound_energy: float,
    area: float,
) -> float:
    """Interfacial energy sigma, elastic strain removed (J/m^2).

    sigma = (E_AB - N_A E_A(z) - N_B E_B(z)) / (2 S)

    E_X(z) is the energy per atom (metal) or per formula unit (compound) of bulk X with its
    in-plane lattice fixed to the interface's and relaxed only along the normal (eV).
    """
    excess = (
        interface_energy - n_metal * strained_metal_energy - n_compound * strained_compound_energy
    )
    return _per_two_interfaces(excess, area)


def strain_energy(formation: float, interfacial: float) -> float:
    """Elastic energy of the strained slabs per interface area: E_f - sigma (J/m^2)."""
    return formation - interfacial


def work_of_adhesion(gamma_metal: float, gamma_compound: float, sigma: float) -> float:
    """Work of adhesion, Eq. 4 (the default): W = gamma_A + gamma_B - sigma (J/m^2)."""
    return gamma_metal + gamma_compound - sigma


def work_of_adhesion_with_strain(
    gamma_metal: float, gamma_compound: float, formation: float
) -> float:
    """Work of adhesion with the strain energy, Eq. 5: W' = gamma_A + gamma_B - E_f (J/m^2)."""
    return gamma_metal + gamma_compound - formation


def adhesion_flags(
    w_adhesion: float, gamma_metal: float, threshold: float = DEFAULT_ADHESION_THRESHOLD
) -> dict[str, bool]:
    """Descriptors of the interface.

    Returns
    -------
    dict
        ``wets``: W > 2 gamma_metal, the Young-Dupre condition for perfect wetting (void-free
        stripping); ``strong_adhesion``: W > ``threshold`` (J/m^2, 0.7 for Li in the literature).

    """
    return {
        "wets": w_adhesion > 2.0 * gamma_metal,
        "strong_adhesion": w_adhesion > threshold,
    }
