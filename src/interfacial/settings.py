"""Settings of the project: one class, read from the environment and an optional YAML file.

Precedence (highest first): keyword arguments, environment variables ``INTERFACIAL_<FIELD>``,
the YAML file (``~/.interfacial.yaml`` or the path in ``INTERFACIAL_CONFIG_FILE``), defaults.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from pydantic import Field
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    YamlConfigSettingsSource,
)

DEFAULT_CONFIG_FILE = Path("~/.interfacial.yaml").expanduser()


def config_file() -> Path:
    """Return the YAML settings file in force (it need not exist)."""
    return Path(os.environ.get("INTERFACIAL_CONFIG_FILE", str(DEFAULT_CONFIG_FILE))).expanduser()


class InterfacialSettings(BaseSettings):
    """Everything a user may want to change without touching code."""

    model_config = SettingsConfigDict(env_prefix="INTERFACIAL_", extra="ignore")

    calculator: str = Field(
        "CHGNet",
        description=(
            "Default calculator engine, a name registered in interfacial.engines: 'CHGNet' "
            "(embedded, weights ship in its wheel) or 'VASP'."
        ),
    )
    data_dir: Path = Field(
        Path("interfacial-data"),
        description="Directory of the embedded (file-backed) database; delete it to start afresh.",
    )
    store_uri: str | None = Field(
        None,
        description="MongoDB URI of a production database; when set, the embedded one is unused.",
    )
    store_database: str = Field("interfacial", description="Database name used with store_uri.")
    use_jobflow_store: bool = Field(
        False,
        description="Use the JobStore of the user's jobflow.yaml (JOBFLOW_CONFIG_FILE) unchanged.",
    )
    vasp_cmd: str = Field("vasp_std", description="Command that runs VASP (with its MPI launcher).")
    lammps_cmd: str = Field("lmp", description="LAMMPS executable.")
    mlp_cmd: str = Field("mlp", description="MLIP (moment tensor potential) executable.")
    mpi_cmd: str = Field("mpirun", description="MPI launcher.")
    md_dir: Path | None = Field(
        None,
        description=(
            "Directory of transport MD runs (LAMMPS inputs, dumps, restart files); a run killed "
            "by the walltime resumes from here, so on clusters point it to a shared scratch "
            "directory. Default: <data_dir>/md."
        ),
    )
    relax_fmax: float = Field(
        0.02, gt=0, description="Force-field relaxations stop when max |F| < relax_fmax (eV/A)."
    )
    relax_steps: int = Field(500, gt=0, description="Maximum optimiser steps of a relaxation.")

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        """Add the YAML file below the environment."""
        yaml_source = YamlConfigSettingsSource(settings_cls, yaml_file=config_file())
        return (init_settings, env_settings, yaml_source)


def get_settings(**overrides: Any) -> InterfacialSettings:
    """Read the settings afresh (environment and file may change between calls in tests)."""
    return InterfacialSettings(**overrides)
