"""A fitted moment tensor potential: the ``.mtp`` text and what it needs to be used correctly.

An ``.mtp`` file numbers species by MLIP type (0, 1, ...) and does not say which element each type
is, so the species order travels with the text, and the same order is used for the ``.cfg``
training files, LAMMPS data files and ``pair_coeff``. The text is checked when the object is
made: a potential that cannot be read by ``mlp`` or motep, or with non-finite coefficients (a
diverged fit), never becomes an :class:`MTPPotential`.
"""

from __future__ import annotations

import dataclasses
import hashlib
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from interfacial.errors import InterfacialError
from interfacial.mtp.cfg import check_species_order

# Keys that every readable .mtp file has, untrained or trained, in MLIP's (legacy) layout.
_REQUIRED = (
    "species_count",
    "potential_tag",
    "radial_basis_type",
    "min_dist",
    "max_dist",
    "radial_basis_size",
    "radial_funcs_count",
    "alpha_moments_count",
    "alpha_index_basic_count",
    "alpha_index_basic",
    "alpha_index_times_count",
    "alpha_index_times",
    "alpha_scalar_moments",
    "alpha_moment_mapping",
)
# Keys that only a trained file has.
_TRAINED = ("species_coeffs", "moment_coeffs")

# Number of scalar basis functions -> level, for files that do not name their level: MLIP's
# templates, and this project's basis where it differs (levels 16 to 20, see mtp.basis).
_LEVEL_BY_SCALARS = {
    1: 2, 2: 4, 5: 6, 9: 8, 16: 10, 29: 12, 52: 14, 92: 16, 91: 16,
    163: 18, 161: 18, 288: 20, 282: 20, 500: 22, 864: 24, 1464: 26, 2445: 28,
}  # fmt: skip
_LEVEL_IN_NAME = re.compile(r"MTP_level(\d+)")
_NUMBER = re.compile(r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?|[-+]?(?:nan|inf)", re.IGNORECASE)


@dataclass(frozen=True)
class MTPHeader:
    """What an ``.mtp`` file declares, parsed and checked for consistency.

    Attributes
    ----------
    species_count
        Number of species (MLIP types).
    potential_name, potential_tag
        Free-text identification.
    radial_basis_type
        ``RBChebyshev`` for MLIP and motep.
    min_dist, max_dist
        Radial basis range (A); ``max_dist`` is the cutoff.
    radial_basis_size, radial_funcs_count
        Chebyshev polynomials per radial function; number of radial functions.
    alpha_moments_count, alpha_scalar_moments
        Number of moments; of scalar basis functions.
    trained
        True if the file holds fitted coefficients.

    """

    species_count: int
    potential_name: str
    potential_tag: str
    radial_basis_type: str
    min_dist: float
    max_dist: float
    radial_basis_size: int
    radial_funcs_count: int
    alpha_moments_count: int
    alpha_scalar_moments: int
    trained: bool

    @property
    def level(self) -> int | None:
        """The level, from the name this project writes or the number of basis functions."""
        match = _LEVEL_IN_NAME.fullmatch(self.potential_name)
        if match:
            return int(match.group(1))
        return _LEVEL_BY_SCALARS.get(self.alpha_scalar_moments)


def _numbers(text: str) -> list[float]:
    return [float(x) for x in _NUMBER.findall(text)]


def parse_mtp_header(text: str, *, source: str = "the .mtp text") -> MTPHeader:
    """Parse and check an ``.mtp`` file in MLIP's layout (the one ``mlp`` and motep read).

    Parameters
    ----------
    text
        The file's text.
    source
        How to name the file in errors.

    Returns
    -------
    MTPHeader
        The declared sizes, checked against the lists they describe.

    Raises
    ------
    InterfacialError
        If the text is not an MTP file, lacks a required entry (named), is in motep's new
        layout (written without ``legacy=True``), has inconsistent counts, or has non-finite
        coefficients.

    """
    lines = text.splitlines()
    if not lines or lines[0].strip() != "MTP":
        raise InterfacialError(f"{source} is not an MTP potential: its first line is not 'MTP'")
    values: dict[str, str] = {}
    radial_rows: list[str] = []
    in_radial = False
    for line in lines[1:]:
        stripped = line.strip()
        if "=" in stripped:
            key, _, value = stripped.partition("=")
            values[key.strip()] = value.strip()
            in_radial = False
        elif stripped == "radial_coeffs":
            in_radial = True
        elif in_radial and stripped.startswith("{"):
            radial_rows.append(stripped)
    if "min_dist" not in values and {"min", "max", "size"} <= values.keys():
        raise InterfacialError(
            f"{source} is in motep's new layout (radial basis 'min/max/size'), which neither "
            "mlp nor motep 0.2.0 reads back: write it with motep's write_mtp(..., legacy=True)"
        )
    missing = [key for key in _REQUIRED if key not in values]
    if missing:
        raise InterfacialError(f"{source} is not a readable MTP potential: missing {missing}")

    def integer(key: str) -> int:
        try:
            return int(values[key])
        except ValueError:
            raise InterfacialError(
                f"{source}: {key} = {values[key]!r} is not a whole number"
            ) from None

    def real(key: str) -> float:
        try:
            number = float(values[key])
        except ValueError:
            raise InterfacialError(f"{source}: {key} = {values[key]!r} is not a number") from None
        if not math.isfinite(number):
            raise InterfacialError(f"{source}: {key} is not finite")
        return number

    header = MTPHeader(
        species_count=integer("species_count"),
        potential_name=values.get("potential_name", ""),
        potential_tag=values["potential_tag"],
        radial_basis_type=values["radial_basis_type"],
        min_dist=real("min_dist"),
        max_dist=real("max_dist"),
        radial_basis_size=integer("radial_basis_size"),
        radial_funcs_count=integer("radial_funcs_count"),
        alpha_moments_count=integer("alpha_moments_count"),
        alpha_scalar_moments=integer("alpha_scalar_moments"),
        trained=all(key in values for key in _TRAINED),
    )
    if header.species_count < 1 or not 0 < header.min_dist < header.max_dist:
        raise InterfacialError(
            f"{source}: need species_count >= 1 and 0 < min_dist < max_dist, got "
            f"{header.species_count}, {header.min_dist}, {header.max_dist}"
        )
    counted = {
        key: (len(_numbers(values[key])), expected)
        for key, expected in (
            ("alpha_index_basic", 4 * integer("alpha_index_basic_count")),
            ("alpha_index_times", 4 * integer("alpha_index_times_count")),
            ("alpha_moment_mapping", header.alpha_scalar_moments),
        )
    }
    if header.trained:
        n_radial = header.species_count**2 * header.radial_funcs_count * header.radial_basis_size
        coefficients = {
            "species_coeffs": (_numbers(values["species_coeffs"]), header.species_count),
            "moment_coeffs": (_numbers(values["moment_coeffs"]), header.alpha_scalar_moments),
            "radial_coeffs": (_numbers(" ".join(radial_rows)), n_radial),
        }
        for key, (numbers, expected) in coefficients.items():
            counted[key] = (len(numbers), expected)
            if not all(math.isfinite(x) for x in numbers):
                raise InterfacialError(
                    f"{source}: {key} are not all finite (the fit diverged); it cannot be used"
                )
    wrong = {key: found for key, (found, expected) in counted.items() if found != expected}
    if wrong:
        detail = ", ".join(
            f"{key} has {found} numbers, expected {counted[key][1]}" for key, found in wrong.items()
        )
        raise InterfacialError(f"{source} is inconsistent: {detail}")
    return header


@dataclass(frozen=True)
class MTPPotential:
    """A trained moment tensor potential with its identity.

    Attributes
    ----------
    text
        The ``.mtp`` file in MLIP's layout (readable by ``mlp`` and motep).
    species_order
        Element of each MLIP type: ``species_order[k]`` is type k.
    level
        Level (lev_max) of the basis.
    cutoff
        Cutoff radius (A), the file's ``max_dist``.
    engine, engine_version
        What fitted it (e.g. ``"motep"``, ``"0.2.0"``).
    weights
        Energy, force and stress weights of the fit, as given to the engine.
    seed
        Random seed of the fit (None if the engine takes none).
    sha256
        Hash of ``text``; filled in when empty, checked when given.

    """

    text: str
    species_order: tuple[str, ...]
    level: int
    cutoff: float
    engine: str
    engine_version: str
    weights: tuple[float, float, float] | None = None
    seed: int | None = None
    sha256: str = field(default="")

    def __post_init__(self) -> None:
        # Lists arrive from JSON; store tuples so that the object stays hashable and immutable.
        order = tuple(check_species_order(self.species_order))
        object.__setattr__(self, "species_order", order)
        if self.weights is not None:
            object.__setattr__(self, "weights", tuple(float(w) for w in self.weights))
        header = parse_mtp_header(self.text)
        if not header.trained:
            raise InterfacialError("the .mtp text is an untrained template: fit it first")
        if header.species_count != len(order):
            raise InterfacialError(
                f"the potential has {header.species_count} species but species_order "
                f"{list(order)} has {len(order)}"
            )
        if not math.isclose(header.max_dist, self.cutoff, rel_tol=1e-9):
            raise InterfacialError(
                f"cutoff {self.cutoff} A differs from the file's max_dist {header.max_dist} A"
            )
        if header.level is not None and header.level != self.level:
            raise InterfacialError(
                f"level {self.level} differs from the file's level {header.level}"
            )
        digest = hashlib.sha256(self.text.encode("utf-8")).hexdigest()
        if self.sha256 and self.sha256 != digest:
            raise InterfacialError(
                "the potential text does not match its sha256: it was altered after fitting"
            )
        object.__setattr__(self, "sha256", digest)

    @property
    def header(self) -> MTPHeader:
        """The parsed header of :attr:`text`."""
        return parse_mtp_header(self.text)

    @classmethod
    def from_file(
        cls,
        path: str | Path,
        species_order: Sequence[str],
        *,
        level: int | None = None,
        engine: str = "unknown",
        engine_version: str = "unknown",
        weights: tuple[float, float, float] | None = None,
        seed: int | None = None,
    ) -> MTPPotential:
        """Read a trained ``.mtp`` file.

        Parameters
        ----------
        path
            The file.
        species_order
            Element of each MLIP type (the file does not say).
        level
            Level of the basis; by default read from the potential's name (as written by this
            project) or the number of basis functions.
        engine, engine_version, weights, seed
            Provenance of the fit, if known.

        Returns
        -------
        MTPPotential
            The checked potential; its cutoff is the file's ``max_dist``.

        Raises
        ------
        InterfacialError
            If the file is missing, unreadable, untrained, or does not match ``species_order``.

        """
        path = Path(path)
        if not path.is_file():
            raise InterfacialError(f"no .mtp file at {path}")
        text = path.read_text(encoding="utf-8")
        header = parse_mtp_header(text, source=str(path))
        level = level if level is not None else header.level
        if level is None:
            raise InterfacialError(
                f"{path}: cannot tell the level from {header.alpha_scalar_moments} basis "
                "functions; pass level="
            )
        return cls(
            text=text,
            species_order=tuple(species_order),
            level=level,
            cutoff=header.max_dist,
            engine=engine,
            engine_version=engine_version,
            weights=weights,
            seed=seed,
        )

    def write(self, path: str | Path) -> Path:
        """Write the ``.mtp`` text to ``path`` (parents created) and return the path."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(self.text, encoding="utf-8")
        return path

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready fields, with monty's ``@module`` and ``@class``.

        jobflow and MontyDecoder then rebuild the object through :meth:`from_dict`, which
        checks the hash.
        """
        data: dict[str, Any] = {"@module": type(self).__module__, "@class": type(self).__name__}
        data |= dataclasses.asdict(self)
        data["species_order"] = list(self.species_order)
        data["weights"] = list(self.weights) if self.weights is not None else None
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> MTPPotential:
        """Inverse of :meth:`as_dict` (the hash is checked)."""
        names = {f.name for f in dataclasses.fields(cls)}
        return cls(**{key: value for key, value in data.items() if key in names})
