"""The moment basis of an untrained moment tensor potential of a given level.

An MTP's site energy is a linear combination of scalar basis functions, each a complete contraction
of moment tensors of the atom's neighbourhood (Shapeev, Multiscale Model. Simul. 14, 1153 (2016))::

    M_{mu,nu}(i) = sum_j f_mu(|r_ij|) r_ij/|r_ij| (x) ... (x) r_ij/|r_ij|      (nu unit vectors)
    level(M_{mu,nu}) = 2 + 4 mu + nu,    level(contraction) = sum of its factors' levels

A level-N potential holds every linearly independent contraction of at most 4 factors whose level
is <= N (with mu <= 5 and nu <= 10): 1, 2, 5, 9, 16, 29, 52 basis functions for levels 2 ... 14,
the same as MLIP's templates ``02.mtp ... 14.mtp`` (level 10: 16 functions of 41 moments, as in
MLIP). From level 16 on, MLIP's templates also list contractions that are exact linear
combinations of others (identities of 3x3 tensors: Cayley-Hamilton's ties ``tr(M_{0,2}^4)`` to
``(M_{0,2}:M_{0,2})^2`` and products with ``M_{0,0} = tr M_{0,2}``), which add nothing to a
linear fit but make it degenerate; they are left out here: 91, 161, 282 functions for levels 16,
18, 20 against MLIP's 92, 163, 288.

Why this module exists: ``mlp train`` and motep both start from an untrained ``.mtp`` file that
lists the basis (``alpha_index_basic``, ``alpha_index_times``, ``alpha_moment_mapping``), but motep
0.2.0 ships no such templates and MLIP's are not on this machine. The basis is therefore generated
from the definition above:

1. enumerate contraction graphs (nodes = tensors, edges = contracted index pairs, no self-loops:
   with unit vectors a self-contraction of ``M_{mu,nu}`` is ``M_{mu,nu-2}``, already present);
2. keep the linearly independent ones, tested numerically on random neighbourhoods;
3. compile them into MLIP's program: ``alpha_index_basic`` rows ``{mu, a, b, c}`` are the basic
   moments ``sum_j f_mu x^a y^b z^c`` (unit-vector components), each ``alpha_index_times`` row
   ``{i, j, mult, k}`` adds ``mult * m_i * m_j`` to moment ``k`` (rows in evaluation order), and
   ``alpha_moment_mapping`` names the moments that are the scalar basis functions.

The contraction of a symmetric tensor is written on its distinct components (counts ``a, b, c`` of
x, y, z) with the multinomial multiplicity ``g! / (a! b! c!)`` carried in ``mult``.
"""

from __future__ import annotations

import itertools
import math
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

from interfacial.errors import InterfacialError

if TYPE_CHECKING:
    from collections.abc import Sequence

    from ase import Atoms

    from interfacial.mtp.potential import MTPPotential

MAX_FACTORS = 4
"""At most this many moment tensors in one basis function (MLIP's limit)."""
MAX_MU = 5
"""Largest radial index mu of a moment tensor (MLIP's limit)."""
MAX_NU = 10
"""Largest tensor rank nu of a moment tensor (MLIP's limit)."""
SUPPORTED_LEVELS = tuple(range(2, 22, 2))
"""Levels that can be generated (odd levels do not exist: every complete contraction has even
total rank). Levels above 20 are not offered: far beyond the study's 10, and untested."""

Counts = tuple[int, int, int]
Node = tuple[int, int]  # (mu, nu)
Edge = tuple[int, int, int]  # (i, j, multiplicity) with i < j


def tensor_level(mu: int, nu: int) -> int:
    """Level of the moment tensor ``M_{mu,nu}``: ``2 + 4 mu + nu``."""
    return 2 + 4 * mu + nu


@dataclass(frozen=True)
class Contraction:
    """A complete contraction of moment tensors: one candidate scalar basis function.

    Attributes
    ----------
    nodes
        The tensors ``(mu, nu)``, sorted.
    edges
        ``(i, j, m)``: ``m`` indices of tensor ``i`` contracted with ``m`` of tensor ``j``.

    """

    nodes: tuple[Node, ...]
    edges: tuple[Edge, ...]

    @property
    def level(self) -> int:
        """Sum of the levels of the factors."""
        return sum(tensor_level(mu, nu) for mu, nu in self.nodes)


# --- 1. enumeration ---------------------------------------------------------------------------


def _compositions(total: int) -> Iterator[Counts]:
    """All ``(a, b, c)`` with ``a + b + c == total``, x-heavy first (MLIP's component order)."""
    for a in range(total, -1, -1):
        for b in range(total - a, -1, -1):
            yield (a, b, total - a - b)


def _add(*counts: Counts) -> Counts:
    """Component-wise sum of (a, b, c) counts."""
    return (sum(c[0] for c in counts), sum(c[1] for c in counts), sum(c[2] for c in counts))


def _multinomial(counts: Counts) -> int:
    """Number of index tuples with the given counts of x, y, z."""
    a, b, c = counts
    return math.factorial(a + b + c) // (math.factorial(a) * math.factorial(b) * math.factorial(c))


def _edge_sets(degrees: tuple[int, ...]) -> Iterator[dict[tuple[int, int], int]]:
    """Multigraphs without self-loops whose node degrees are ``degrees``."""
    pairs = list(itertools.combinations(range(len(degrees)), 2))

    def recurse(p: int, remaining: list[int], chosen: dict[tuple[int, int], int]) -> Iterator:
        if p == len(pairs):
            if not any(remaining):
                yield dict(chosen)
            return
        i, j = pairs[p]
        for m in range(min(remaining[i], remaining[j]) + 1):
            remaining[i] -= m
            remaining[j] -= m
            if m:
                chosen[(i, j)] = m
            # Node i has no pair left after its last one: its legs must all be used by then.
            if all(remaining[k] == 0 or any(k in q for q in pairs[p + 1 :]) for k in (i, j)):
                yield from recurse(p + 1, remaining, chosen)
            chosen.pop((i, j), None)
            remaining[i] += m
            remaining[j] += m

    yield from recurse(0, list(degrees), {})


def _canonical(nodes: tuple[Node, ...], edges: dict[tuple[int, int], int]) -> tuple[Edge, ...]:
    """The smallest edge list over relabellings that swap identical tensors (graph identity)."""
    best: tuple[Edge, ...] | None = None
    for perm in itertools.permutations(range(len(nodes))):
        if any(nodes[perm[k]] != nodes[k] for k in range(len(nodes))):
            continue
        relabelled = tuple(
            sorted((min(perm[i], perm[j]), max(perm[i], perm[j]), m) for (i, j), m in edges.items())
        )
        if best is None or relabelled < best:
            best = relabelled
    assert best is not None  # the identity permutation always qualifies
    return best


def enumerate_contractions(level: int) -> list[Contraction]:
    """All distinct contraction graphs of level <= ``level`` (not yet tested for independence).

    Ordered by level, then number of factors, then graph, so that the independence test keeps
    the simplest representative of every dependent set.
    """
    max_mu = min(MAX_MU, (level - 2) // 4)
    max_nu = min(MAX_NU, max(level // 2 - 2, 0))
    tensors = [
        (mu, nu)
        for mu in range(max_mu + 1)
        for nu in range(max_nu + 1)
        if tensor_level(mu, nu) <= level
    ]
    found: dict[tuple, Contraction] = {}
    for n_factors in range(1, MAX_FACTORS + 1):
        for nodes in itertools.combinations_with_replacement(tensors, n_factors):
            if sum(tensor_level(mu, nu) for mu, nu in nodes) > level:
                continue
            if sum(nu for _, nu in nodes) % 2:
                continue
            for edges in _edge_sets(tuple(nu for _, nu in nodes)):
                key = (nodes, _canonical(nodes, edges))
                found.setdefault(key, Contraction(nodes=nodes, edges=key[1]))
    return sorted(found.values(), key=lambda c: (c.level, len(c.nodes), c.nodes, c.edges))


# --- 3. compilation into MLIP's program ---------------------------------------------------------


class _Program:
    """Basic moments and products, shared between basis functions (hash-consed)."""

    def __init__(self) -> None:
        self.basic: dict[tuple[int, Counts], int] = {}
        self.derived: dict[tuple[tuple[int, int, int], ...], int] = {}
        self.size = 0

    def _new(self) -> int:
        self.size += 1
        return self.size - 1

    def basic_moment(self, mu: int, counts: Counts) -> int:
        key = (mu, counts)
        if key not in self.basic:
            self.basic[key] = self._new()
        return self.basic[key]

    def combination(self, terms: dict[tuple[int, int], int]) -> tuple[int, int]:
        """A moment ``sum mult * m_i * m_j``, returned as ``(factor, id)``.

        A single term is stored with multiplicity 1 and its multiplicity returned as the factor,
        so that the same product is shared whatever multiplicity it is used with.
        """
        cleaned: dict[tuple[int, int], int] = defaultdict(int)
        for (i, j), m in terms.items():
            # m_i m_j = m_j m_i: both orders are one term, with their multiplicities added.
            cleaned[(min(i, j), max(i, j))] += m
        cleaned = {pair: m for pair, m in cleaned.items() if m}
        factor = 1
        if len(cleaned) == 1:
            ((pair, factor),) = cleaned.items()
            cleaned = {pair: 1}
        key = tuple(sorted((i, j, m) for (i, j), m in cleaned.items()))
        if key not in self.derived:
            self.derived[key] = self._new()
        return factor, self.derived[key]

    def connected(self, nodes: tuple[Node, ...], edges: dict[tuple[int, int], int]) -> int:
        """Compile one connected contraction into a moment (its overall factor is dropped).

        The tensors are absorbed one at a time. The partial result keeps, for every tensor not yet
        absorbed, the group of its free indices summed over all index tuples with the same
        counts of x, y, z: contracting with a symmetric tensor needs nothing more.
        """
        multiplicity = defaultdict(int)
        for (i, j), m in edges.items():
            multiplicity[(i, j)] = multiplicity[(j, i)] = m

        order = [0]
        while len(order) < len(nodes):
            order.append(
                min(
                    k
                    for k in range(len(nodes))
                    if k not in order and any(multiplicity[(k, s)] for s in order)
                )
            )

        # state: ((target, counts), ...) -> (factor, moment id); the first tensor starts it.
        state: dict[tuple[tuple[int, Counts], ...], tuple[int, int]] = {}
        for step, n in enumerate(order):
            mu, _ = nodes[n]
            absorbed = set(order[: step + 1])
            targets = [
                (f, multiplicity[(n, f)])
                for f in range(len(nodes))
                if f not in absorbed and multiplicity[(n, f)]
            ]
            splits = list(itertools.product(*(list(_compositions(m)) for _, m in targets)))
            if step == 0:
                for split in splits:
                    total = _add((0, 0, 0), *split)
                    weight = math.prod(_multinomial(d) for d in split)
                    key = tuple(sorted((f, d) for (f, _), d in zip(targets, split, strict=True)))
                    state[key] = (weight, self.basic_moment(mu, total))
                continue
            sums: dict[tuple, dict[tuple[int, int], int]] = defaultdict(lambda: defaultdict(int))
            for key, (factor, moment) in state.items():
                groups = dict(key)
                incoming = groups.pop(n)
                for split in splits:
                    total = _add(incoming, *split)
                    weight = factor * math.prod(_multinomial(d) for d in split)
                    new_groups = dict(groups)
                    for (f, _), d in zip(targets, split, strict=True):
                        old = new_groups.get(f, (0, 0, 0))
                        new_groups[f] = _add(old, d)
                    basic = self.basic_moment(mu, total)
                    sums[tuple(sorted(new_groups.items()))][(moment, basic)] += weight
            state = {key: self.combination(terms) for key, terms in sums.items()}
        ((_, (_, result)),) = state.items()
        return result

    def contraction(self, contraction: Contraction) -> int:
        """Compile a contraction: its connected parts, then their product (a chain of products)."""
        nodes = contraction.nodes
        parent = list(range(len(nodes)))

        def root(k: int) -> int:
            while parent[k] != k:
                k = parent[k]
            return k

        for i, j, _ in contraction.edges:
            parent[root(i)] = root(j)
        parts: dict[int, list[int]] = defaultdict(list)
        for k in range(len(nodes)):
            parts[root(k)].append(k)
        part_keys = []
        for members in parts.values():
            index = {old: new for new, old in enumerate(members)}
            sub_nodes = tuple(nodes[k] for k in members)
            sub_edges = {
                (index[i], index[j]): m
                for i, j, m in contraction.edges
                if i in index and j in index
            }
            part_keys.append((sub_nodes, _canonical(sub_nodes, sub_edges), sub_edges))
        # Multiplying the parts in a fixed order lets M00^3 reuse the M00^2 of M00^2 (M01.M01).
        part_keys.sort(key=lambda p: (p[0], p[1]))
        result = -1
        for sub_nodes, _, sub_edges in part_keys:
            moment = self.connected(sub_nodes, sub_edges)
            result = moment if result < 0 else self.combination({(result, moment): 1})[1]
        return result

    def evaluate(
        self, directions: npt.NDArray[np.float64], radial: npt.NDArray[np.float64]
    ) -> npt.NDArray[np.float64]:
        """All moments on sample neighbourhoods.

        Parameters
        ----------
        directions
            Unit vectors to the neighbours, shape (samples, neighbours, 3).
        radial
            Radial function values ``f_mu``, shape (samples, mu, neighbours).

        Returns
        -------
        numpy.ndarray
            Moment values, shape (moments, samples).

        """
        values = np.zeros((self.size, directions.shape[0]))
        for (mu, (a, b, c)), k in self.basic.items():
            powers = directions[..., 0] ** a * directions[..., 1] ** b * directions[..., 2] ** c
            values[k] = np.sum(radial[:, mu, :] * powers, axis=1)
        # Products are created after their factors, so ascending id is evaluation order.
        for terms, k in sorted(self.derived.items(), key=lambda item: item[1]):
            for i, j, m in terms:
                values[k] += m * values[i] * values[j]
        return values


# --- 2. independence ----------------------------------------------------------------------------


def _independent(columns: npt.NDArray[np.float64], tolerance: float = 1e-8) -> list[int]:
    """Indices of the columns that are not linear combinations of the columns kept before them."""
    kept: list[int] = []
    basis: list[npt.NDArray[np.float64]] = []
    for k in range(columns.shape[1]):
        v = columns[:, k] / np.linalg.norm(columns[:, k])
        for _ in range(2):  # Gram-Schmidt twice: orthogonal to machine precision
            for q in basis:
                v = v - (q @ v) * q
        norm = float(np.linalg.norm(v))
        if norm > tolerance:
            kept.append(k)
            basis.append(v / norm)
    return kept


@dataclass(frozen=True)
class MomentBasis:
    """MLIP's description of a level's basis functions (the untrained part of a ``.mtp`` file).

    Attributes
    ----------
    level
        The level (lev_max).
    radial_funcs_count
        Number of radial functions ``f_mu`` (largest mu + 1).
    alpha_index_basic
        Rows ``(mu, a, b, c)`` of the basic moments.
    alpha_index_times
        Rows ``(i, j, mult, k)``: moment ``k`` += ``mult * m_i * m_j``, in evaluation order.
    alpha_moment_mapping
        The moments that are the scalar basis functions, ascending.
    contractions
        The contraction graphs of the basis functions (for documentation and tests).

    """

    level: int
    radial_funcs_count: int
    alpha_index_basic: tuple[tuple[int, int, int, int], ...]
    alpha_index_times: tuple[tuple[int, int, int, int], ...]
    alpha_moment_mapping: tuple[int, ...]
    contractions: tuple[Contraction, ...]

    @property
    def alpha_moments_count(self) -> int:
        """Number of moments (basic and products)."""
        return len(self.alpha_index_basic) + len({row[3] for row in self.alpha_index_times})

    @property
    def alpha_scalar_moments(self) -> int:
        """Number of scalar basis functions."""
        return len(self.alpha_moment_mapping)


def _sample_neighbourhoods(
    n_samples: int, n_mu: int, seed: int = 2016
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """Random neighbourhoods: generic enough that only identities survive as dependences."""
    rng = np.random.default_rng(seed)
    n_neighbours = 12
    directions = rng.normal(size=(n_samples, n_neighbours, 3))
    directions /= np.linalg.norm(directions, axis=-1, keepdims=True)
    radial = rng.normal(size=(n_samples, n_mu, n_neighbours)) / np.sqrt(n_neighbours)
    return directions, radial


@cache
def moment_basis(level: int) -> MomentBasis:
    """The basis of a level-``level`` MTP (deterministic; cached).

    Parameters
    ----------
    level
        An even level in :data:`SUPPORTED_LEVELS` (2 ... 20).

    Returns
    -------
    MomentBasis
        The basis, with basic moments first (ordered by mu, then rank, then component).

    Raises
    ------
    ValueError
        If the level is not supported.

    """
    if level not in SUPPORTED_LEVELS:
        msg = f"MTP level {level} is not supported: choose an even level from 2 to 20."
        raise ValueError(msg)
    candidates = enumerate_contractions(level)
    trial = _Program()
    moments = [trial.contraction(c) for c in candidates]
    n_mu = 1 + max(mu for c in candidates for mu, _ in c.nodes)
    directions, radial = _sample_neighbourhoods(max(4 * len(candidates), 64), n_mu)
    values = trial.evaluate(directions, radial)
    kept = [candidates[k] for k in _independent(values[moments].T)]

    # Compile again with the kept functions only, so that no unused moment is listed.
    program = _Program()
    scalars = [program.contraction(c) for c in kept]
    basic_order = sorted(
        program.basic, key=lambda key: (key[0], sum(key[1]), tuple(-x for x in key[1]))
    )
    new_id = {program.basic[key]: k for k, key in enumerate(basic_order)}
    for old in sorted(program.derived.values()):  # creation order is evaluation order
        new_id[old] = len(new_id)
    times: list[tuple[int, int, int, int]] = []
    for key, old in sorted(program.derived.items(), key=lambda item: item[1]):
        for i, j, m in key:
            first, second = sorted((new_id[i], new_id[j]))
            times.append((first, second, m, new_id[old]))
    return MomentBasis(
        level=level,
        radial_funcs_count=1 + max(mu for mu, _ in basic_order),
        alpha_index_basic=tuple((mu, *counts) for mu, counts in basic_order),
        alpha_index_times=tuple(times),
        alpha_moment_mapping=tuple(sorted(new_id[s] for s in scalars)),
        contractions=tuple(kept),
    )


def _braces(rows: tuple[tuple[int, ...], ...] | tuple[int, ...]) -> str:
    """MLIP's list syntax: ``{0, 1}`` or ``{{0, 1}, {2, 3}}``."""
    return "{" + ", ".join(_braces(r) if isinstance(r, tuple) else str(r) for r in rows) + "}"


def untrained_mtp_text(
    level: int,
    species_count: int,
    min_dist: float,
    max_dist: float,
    radial_basis_size: int = 8,
) -> str:
    """The text of an untrained level-``level`` ``.mtp`` file in MLIP's (legacy) format.

    Both ``mlp train`` and motep read it and draw the coefficients at random before fitting.

    Parameters
    ----------
    level
        Even level 2 ... 20.
    species_count
        Number of species (the length of the potential's species order).
    min_dist, max_dist
        Inner and outer radius of the Chebyshev radial basis (A); ``max_dist`` is the cutoff.
    radial_basis_size
        Number of Chebyshev polynomials per radial function (MLIP's templates use 8).

    Returns
    -------
    str
        The file's text.

    """
    if not 0.0 < min_dist < max_dist:
        msg = f"need 0 < min_dist < max_dist (A), got min_dist={min_dist}, max_dist={max_dist}"
        raise ValueError(msg)
    basis = moment_basis(level)
    lines = [
        "MTP",
        "version = 1.1.0",
        f"potential_name = MTP_level{level}",
        f"species_count = {species_count}",
        "potential_tag = ",
        "radial_basis_type = RBChebyshev",
        f"\tmin_dist = {float(min_dist)!r}",
        f"\tmax_dist = {float(max_dist)!r}",
        f"\tradial_basis_size = {radial_basis_size}",
        f"\tradial_funcs_count = {basis.radial_funcs_count}",
        f"alpha_moments_count = {basis.alpha_moments_count}",
        f"alpha_index_basic_count = {len(basis.alpha_index_basic)}",
        f"alpha_index_basic = {_braces(basis.alpha_index_basic)}",
        f"alpha_index_times_count = {len(basis.alpha_index_times)}",
        f"alpha_index_times = {_braces(basis.alpha_index_times)}",
        f"alpha_scalar_moments = {basis.alpha_scalar_moments}",
        f"alpha_moment_mapping = {_braces(basis.alpha_moment_mapping)}",
    ]
    return "\n".join(lines) + "\n"


def shortest_distance(configurations: Sequence[Atoms], cutoff: float) -> float:
    """Shortest interatomic distance (A) within ``cutoff`` over all configurations.

    Raises
    ------
    InterfacialError
        If no two atoms of any configuration are within ``cutoff``.

    """
    from ase.neighborlist import neighbor_list

    shortest = math.inf
    for atoms in configurations:
        distances = neighbor_list("d", atoms, cutoff)
        if distances.size:
            shortest = min(shortest, float(distances.min()))
    if not math.isfinite(shortest):
        raise InterfacialError(
            f"no two atoms of the training set are within the cutoff {cutoff} A: nothing to fit"
        )
    return shortest


def basis_min_dist(training: Sequence[Atoms], cutoff: float) -> float:
    """Where a fit's radial basis starts (A): the shortest pair, rounded down to 0.1 A."""
    return math.floor(shortest_distance(training, cutoff) * 10.0) / 10.0


def basis_covers(potential: MTPPotential, training: Sequence[Atoms]) -> bool:
    """Whether ``potential``'s radial basis (from its min_dist) reaches every training pair.

    A refit can start from it only then; otherwise it starts afresh with a new basis.
    """
    return potential.header.min_dist <= basis_min_dist(training, potential.cutoff)
