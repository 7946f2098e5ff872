"""Documents of MTP fits."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field, field_validator

from interfacial.schemas.surface import utcnow


class FitErrors(BaseModel):
    """Errors of a potential on one labelled set."""

    n_configurations: int
    n_atoms: int
    energy_rmse: float = Field(description="meV/atom")
    force_rmse: float = Field(description="meV/A, over all force components")
    stress_rmse: float | None = Field(None, description="GPa; null without reference stress")
    meets_targets: bool = Field(description="energy <= 10 meV/atom and forces <= 30 meV/A")


class ParitySet(BaseModel):
    """Reference and predicted values of one set, for parity plots (stored in the data store)."""

    energy_reference: list[float] = Field(description="eV/atom")
    energy_predicted: list[float] = Field(description="eV/atom")
    force_reference: list[float] = Field(description="eV/A, flattened components")
    force_predicted: list[float] = Field(description="eV/A, flattened components")


class MTPFitDocument(BaseModel):
    """A fitted moment tensor potential, its identity and its errors.

    ``potential`` (the .mtp text with its identity) and ``parity`` go to the JobStore's data
    store; the docs store keeps everything else, including the hash that identifies the text.
    """

    system: str
    species_order: list[str] = Field(description="MLIP type k is species_order[k]")
    level: int
    cutoff: float = Field(description="A")
    weights: list[float] = Field(description="energy, force, stress weights as given")
    seed: int | None
    engine: str
    engine_version: str
    potential_sha256: str
    n_training: int = Field(description="Configurations fitted")
    n_training_available: int = Field(description="Configurations offered before subsampling")
    training_errors: FitErrors
    validation_errors: dict[str, FitErrors] = Field(
        default_factory=dict, description="Per validation set, e.g. '300 K'"
    )
    meets_targets: bool = Field(description="Every set meets the study's targets")
    potential: dict[str, Any] = Field(description="MTPPotential.as_dict() (data store)")
    parity: dict[str, ParitySet] = Field(default_factory=dict, description="(data store)")
    initial_potential_sha256: str | None = Field(
        None,
        description=(
            "The potential this fit started from (a refit after active learning); None: "
            "random starting coefficients"
        ),
    )
    training_cfg: str | None = Field(
        None,
        description=(
            "The training set offered to this fit (.cfg text, before subsampling; data store): "
            "what a later refit extends and what production frames are graded against. None in "
            "fits stored before it was kept."
        ),
    )
    last_updated: datetime = Field(default_factory=utcnow)

    @field_validator("potential", mode="before")
    @classmethod
    def _potential_as_dict(cls, value: Any) -> Any:
        # jobflow decodes the stored MSON dict into an MTPPotential before validation.
        return value.as_dict() if hasattr(value, "as_dict") else value
