r"""Synthetic trajectories with known answers, to check the diffusion analysis end to end.

Each generator returns a :class:`SyntheticTrajectory`: wrapped fractional frames, the cell and
the times, so it goes through the real pipeline (unwrapping, drift removal, MSD, fit, verdict)
like a file would, together with the D* and the status the analysis should find.

- :func:`random_walk`: Gaussian random walkers, D known (a diffusive group);
- :func:`caged`: ions rattling about fixed sites (Ornstein-Uhlenbeck), bounded MSD
  :math:`2 d \sigma^2 (1 - e^{-t/\tau})` (a caged group);
- :func:`lattice_hops`: hops of length a on a simple cubic lattice at rate Gamma, each hop
  reversing the previous one with probability p (otherwise any of the 6 directions), plus
  Gaussian thermal vibration about the site. :math:`\langle\cos\theta\rangle = -p` between
  successive hops, so the tracer correlation factor is
  :math:`f = (1 + \langle\cos\theta\rangle)/(1 - \langle\cos\theta\rangle) = (1 - p)/(1 + p)`
  and :math:`D = \Gamma a^2 f / 6` per axis;
- :func:`combine`: several of them in one cell (e.g. mobile Li among a caged framework).

The expected D* includes the removal of the centre-of-mass drift with equal weights, which the
pipeline applies: for independent atoms with per-axis diffusivities :math:`D_k` among N atoms,
:math:`\langle|\Delta r_i - \Delta R|^2\rangle` grows as
:math:`2 d [D_i (1 - 2/N) + \sum_k D_k / N^2] t`.

Example (the check a user can run on the analysis)::

    from interfacial.analysis.synthetic import caged, combine, lattice_hops
    from interfacial.diffusion import diffusion_document

    traj = combine(lattice_hops(seed=1), caged(seed=2))
    doc = diffusion_document(traj.frames(), traj.groups(), system="check", temperature=300,
                             source="trajectory")
    # doc.diffusivity("Li", "total").D ~ traj.expected_D["Li"], status "diffusive";
    # doc.diffusivity("S", "total").status == "caged"

Units: A, ps; expected D* in cm^2/s.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

FloatArray = NDArray[np.float64]

A2_PER_PS_TO_CM2_PER_S = 1e-4
# Unit hop vectors +x, -x, +y, -y, +z, -z: the reverse of direction k is k ^ 1.
_DIRECTIONS = np.array(
    [[1, 0, 0], [-1, 0, 0], [0, 1, 0], [0, -1, 0], [0, 0, 1], [0, 0, -1]], dtype=float
)


@dataclass(frozen=True, eq=False)
class SyntheticFrame:
    """One frame with the fields of :class:`interfacial.trajectory.Frame` the pipeline reads.

    Defined here because analysis modules import no I/O layer; it is accepted wherever frames
    are (positions in A, cell rows in A, time in ps; ``unwrapped`` False: wrapped positions).
    """

    positions: FloatArray
    cell: FloatArray
    time: float
    symbols: tuple[str, ...]
    ids: None = None
    unwrapped: bool = False


@dataclass(frozen=True)
class SyntheticTrajectory:
    """A synthetic run and its known answers.

    Attributes
    ----------
    frac : numpy.ndarray, shape (n_frames, n_atoms, 3)
        Wrapped fractional coordinates.
    cell : numpy.ndarray, shape (3, 3)
        Cubic cell (A), rows are lattice vectors.
    times : numpy.ndarray, shape (n_frames,)
        ps.
    symbols : tuple[str, ...]
        Element of each atom (one element per generator: groups are by element).
    diffusivity : numpy.ndarray, shape (n_atoms,)
        True long-time per-axis D of each atom (A^2/ps): 0 for caged atoms.
    kind : tuple[str, ...]
        Generator of each atom ("random walk", "caged", "lattice hops").

    """

    frac: FloatArray
    cell: FloatArray
    times: FloatArray
    symbols: tuple[str, ...]
    diffusivity: FloatArray
    kind: tuple[str, ...]

    def frames(self) -> list[SyntheticFrame]:
        """The frames, wrapped Cartesian positions, as the readers give them."""
        return list(self._iter_frames())

    def _iter_frames(self) -> Iterator[SyntheticFrame]:
        for frac, time in zip(self.frac, self.times, strict=True):
            yield SyntheticFrame(
                positions=frac @ self.cell,
                cell=self.cell,
                time=float(time),
                symbols=self.symbols,
                ids=None,
                unwrapped=False,
            )

    def groups(self) -> dict[str, list[int]]:
        """One group per element, atoms in frame order."""
        out: dict[str, list[int]] = {}
        for i, s in enumerate(self.symbols):
            out.setdefault(s, []).append(i)
        return out

    @property
    def expected_D(self) -> dict[str, float]:  # noqa: N802 - physics notation
        """D* (cm^2/s) per element group the drift-corrected MSD gives (any component)."""
        n = len(self.symbols)
        total = float(self.diffusivity.sum())
        out = {}
        for name, idx in self.groups().items():
            d = float(self.diffusivity[idx].mean()) * (1 - 2 / n) + total / n**2
            out[name] = d * A2_PER_PS_TO_CM2_PER_S
        return out

    @property
    def expected_status(self) -> dict[str, str]:
        """The status each group should get for a long enough run: caged or diffusive."""
        out = {}
        for name, idx in self.groups().items():
            caged_group = all(self.kind[i] == "caged" for i in idx)
            out[name] = "caged" if caged_group else "diffusive"
        return out


def _cell(box: float) -> FloatArray:
    return np.eye(3) * float(box)


def _wrap(cart: FloatArray, box: float) -> FloatArray:
    return np.asarray((cart / box) % 1.0, dtype=float)


def random_walk(
    n_atoms: int = 64,
    n_frames: int = 400,
    dt: float = 0.1,
    diffusivity: float = 0.1,
    box: float = 20.0,
    seed: int = 0,
    symbol: str = "Li",
) -> SyntheticTrajectory:
    """Gaussian random walkers: per-axis steps N(0, 2 D dt) between frames.

    Parameters
    ----------
    n_atoms, n_frames : int
        Walkers and frames.
    dt : float
        Time between frames (ps).
    diffusivity : float
        D per axis (A^2/ps).
    box : float
        Cubic cell edge (A); keep sqrt(2 D dt) well below box / 2.
    seed : int
        Random seed.
    symbol : str
        Element of the walkers.

    """
    rng = np.random.default_rng(seed)
    steps = rng.normal(scale=np.sqrt(2 * diffusivity * dt), size=(n_frames - 1, n_atoms, 3))
    start = rng.uniform(0, box, size=(1, n_atoms, 3))
    cart = np.concatenate([start, start + np.cumsum(steps, axis=0)])
    return SyntheticTrajectory(
        frac=_wrap(cart, box),
        cell=_cell(box),
        times=np.arange(n_frames, dtype=float) * float(dt),
        symbols=(symbol,) * n_atoms,
        diffusivity=np.full(n_atoms, float(diffusivity)),
        kind=("random walk",) * n_atoms,
    )


def caged(
    n_atoms: int = 32,
    n_frames: int = 400,
    dt: float = 0.1,
    amplitude: float = 0.3,
    relaxation: float = 0.2,
    box: float = 20.0,
    seed: int = 0,
    symbol: str = "S",
) -> SyntheticTrajectory:
    r"""Ions rattling about fixed sites: an Ornstein-Uhlenbeck process per axis.

    :math:`x_{k+1} = x_0 + (x_k - x_0)\phi + \sqrt{1 - \phi^2}\,\sigma\,\xi`, with
    :math:`\phi = e^{-dt/\tau}`, started in its stationary state; the MSD levels off at
    :math:`2 d \sigma^2` and D = 0.

    Parameters
    ----------
    amplitude : float
        sigma, rms displacement from the site per axis (A).
    relaxation : float
        tau (ps).
    n_atoms, n_frames, dt, box, seed, symbol
        As for :func:`random_walk`.

    """
    rng = np.random.default_rng(seed)
    sites = rng.uniform(0, box, size=(n_atoms, 3))
    phi = np.exp(-dt / relaxation)
    x = rng.normal(scale=amplitude, size=(n_atoms, 3))
    cart = np.empty((n_frames, n_atoms, 3))
    for k in range(n_frames):
        cart[k] = sites + x
        x = x * phi + rng.normal(scale=amplitude * np.sqrt(1 - phi**2), size=x.shape)
    return SyntheticTrajectory(
        frac=_wrap(cart, box),
        cell=_cell(box),
        times=np.arange(n_frames, dtype=float) * float(dt),
        symbols=(symbol,) * n_atoms,
        diffusivity=np.zeros(n_atoms),
        kind=("caged",) * n_atoms,
    )


def lattice_hops(
    n_atoms: int = 64,
    n_frames: int = 1000,
    dt: float = 0.1,
    rate: float = 1.0,
    hop_length: float = 2.5,
    reversal: float = 0.3,
    vibration: float = 0.1,
    n_cells: int = 8,
    seed: int = 0,
    symbol: str = "Li",
) -> SyntheticTrajectory:
    r"""Correlated hops on a simple cubic lattice, with thermal vibration about the site.

    Hops are Poisson events of rate Gamma; each reverses the previous hop with probability p
    and otherwise goes along one of the 6 lattice directions at random, so
    :math:`\langle\cos\theta\rangle = -p`, :math:`f = (1 - p)/(1 + p)` and
    :math:`D = \Gamma a^2 f / 6` per axis. Frames add independent Gaussian vibration of rms
    ``vibration`` per axis (an offset of the MSD, no change of D).

    Parameters
    ----------
    rate : float
        Gamma, hops per ion per ps.
    hop_length : float
        a (A), the lattice spacing.
    reversal : float
        p in [0, 1).
    vibration : float
        rms vibration per axis (A).
    n_cells : int
        Cell edge in lattice spacings (box = n_cells a).
    n_atoms, n_frames, dt, seed, symbol
        As for :func:`random_walk`.

    """
    if not 0 <= reversal < 1:
        raise ValueError(f"reversal probability must be in [0, 1), got {reversal}")
    rng = np.random.default_rng(seed)
    box = n_cells * hop_length
    site = rng.integers(0, n_cells, size=(n_atoms, 3)).astype(float) * hop_length
    last = np.full(n_atoms, -1)
    cart = np.empty((n_frames, n_atoms, 3))
    for k in range(n_frames):
        cart[k] = site + rng.normal(scale=vibration, size=site.shape)
        hops = rng.poisson(rate * dt, size=n_atoms)
        for j in range(int(hops.max(initial=0))):
            moving = np.flatnonzero(hops > j)
            direction = rng.integers(0, 6, size=moving.size)
            back = (rng.random(moving.size) < reversal) & (last[moving] >= 0)
            direction[back] = last[moving][back] ^ 1
            site[moving] += hop_length * _DIRECTIONS[direction]
            last[moving] = direction
    f = (1 - reversal) / (1 + reversal)
    return SyntheticTrajectory(
        frac=_wrap(cart, box),
        cell=_cell(box),
        times=np.arange(n_frames, dtype=float) * float(dt),
        symbols=(symbol,) * n_atoms,
        diffusivity=np.full(n_atoms, rate * hop_length**2 * f / 6.0),
        kind=("lattice hops",) * n_atoms,
    )


def combine(*parts: SyntheticTrajectory) -> SyntheticTrajectory:
    """Several synthetic sets of atoms in one run (same cell and times, atoms concatenated)."""
    if not parts:
        raise ValueError("nothing to combine")
    first = parts[0]
    for p in parts[1:]:
        if not np.allclose(p.cell, first.cell) or not np.allclose(p.times, first.times):
            raise ValueError("combined trajectories need the same cell and times")
    return SyntheticTrajectory(
        frac=np.concatenate([p.frac for p in parts], axis=1),
        cell=first.cell,
        times=first.times,
        symbols=sum((p.symbols for p in parts), ()),
        diffusivity=np.concatenate([p.diffusivity for p in parts]),
        kind=sum((p.kind for p in parts), ()),
    )
