"""Settings of the project: one class, read from the environment and an optional YAML file.

Precedence (highest first): keyword arguments, environment variables ``INTERFACIAL_<FIELD>``,
the YAML file (``~/.interfacial.yaml`` or the path in ``INTERFACIAL_CONFIG_FILE``), defaults.

A bad setting is an :class:`~interfacial.errors.InterfacialError` of one line that names the
setting, where it came from (keyword, environment variable or file) and what is expected; it
never repeats the value given (``store_uri`` carries a password), and any URI it quotes goes
through :func:`mask_secrets`.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from pydantic import Field, ValidationError, field_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    YamlConfigSettingsSource,
)

from interfacial.errors import InterfacialError, mask_secrets

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
    torch_threads: int | None = Field(
        None,
        ge=1,
        description=(
            "Threads of each PyTorch force field (CHGNet, SevenNet) in this process; default: "
            "PyTorch's own choice (one per core). Set it to cores / workers when several "
            "workers or jobs share a node: PyTorch's threads spin-wait, and two processes "
            "with two threads each on two cores ran 12-16x slower than with one thread each."
        ),
    )
    store_timeout: float = Field(
        5.0,
        gt=0,
        description=(
            "Seconds to wait for the MongoDB server of store_uri before giving up (server "
            "selection and connection); pymongo's own default is 30 s."
        ),
    )

    def __init__(self, **values: Any) -> None:
        """Read the settings; a bad one raises InterfacialError (one line, no value echoed)."""
        try:
            super().__init__(**values)
        except ValidationError as exc:
            raise InterfacialError(_describe(exc, values)) from None

    @field_validator("data_dir", "md_dir", mode="before")
    @classmethod
    def _not_empty(cls, value: Any) -> Any:
        # Path("") is the working directory: an empty variable must not silently mean "here".
        if isinstance(value, str) and not value.strip():
            raise ValueError("empty (it would silently mean the working directory)")
        return value

    @field_validator("store_uri", mode="before")
    @classmethod
    def _mongodb_uri(cls, value: Any) -> Any:
        if isinstance(value, str) and not value.startswith(("mongodb://", "mongodb+srv://")):
            raise ValueError("not a mongodb:// or mongodb+srv:// URI")
        return value

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        """Add the YAML file below the environment (checked: YAML, a mapping, known keys)."""
        import yaml

        path = config_file()
        if path.is_dir():
            raise InterfacialError(
                f"the settings file {path} is a directory; point INTERFACIAL_CONFIG_FILE to a "
                "YAML file"
            )
        try:
            yaml_source = YamlConfigSettingsSource(settings_cls, yaml_file=path)
        except UnicodeDecodeError:
            raise InterfacialError(
                f"the settings file {path} is not UTF-8 text; save it as UTF-8 or point "
                "INTERFACIAL_CONFIG_FILE to another file"
            ) from None
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            where = f" (line {mark.line + 1})" if mark is not None else ""
            raise InterfacialError(
                f"the settings file {path} is not valid YAML{where}; fix it or point "
                "INTERFACIAL_CONFIG_FILE to another file"
            ) from None
        except (OSError, TypeError, AttributeError, ValueError) as exc:
            # A directory, an unreadable file, or YAML that is not a mapping of settings.
            reason = exc.strerror if isinstance(exc, OSError) else "not a mapping of settings"
            raise InterfacialError(
                f"the settings file {path} cannot be read ({reason}); it holds `setting: value` "
                "lines, e.g. `data_dir: /scratch/interfacial-data`"
            ) from None
        data = yaml_source.yaml_data
        if not isinstance(data, dict):
            raise InterfacialError(
                f"the settings file {path} is not a mapping of settings; it holds "
                "`setting: value` lines, e.g. `data_dir: /scratch/interfacial-data`"
            )
        unknown = sorted(str(key) for key in data if key not in settings_cls.model_fields)
        if unknown:
            # extra="ignore" would drop a typo such as `stor_uri` and silently use the default.
            raise InterfacialError(
                f"the settings file {path} has unknown setting(s) {', '.join(unknown)}; "
                f"known settings: {', '.join(settings_cls.model_fields)}"
            )
        return (init_settings, env_settings, yaml_source)


#: What each setting's type expects, in words (for the one-line error).
_EXPECTED = {
    "calculator": "a calculator name, e.g. CHGNet",
    "data_dir": "a directory path (unset it for ./interfacial-data)",
    "md_dir": "a directory path (or unset)",
    "store_uri": "a MongoDB URI such as mongodb://HOST/DATABASE (or unset)",
    "store_database": "a database name",
    "use_jobflow_store": "true or false",
    "relax_fmax": "a number > 0 (eV/A)",
    "relax_steps": "an integer > 0",
    "store_timeout": "a number of seconds > 0",
}


def _source(field: str, overrides: dict[str, Any]) -> str:
    """Where the value of ``field`` came from, by the precedence of the sources."""
    if field in overrides:
        return f"the argument {field}="
    variable = f"INTERFACIAL_{field}".upper()
    if any(name.upper() == variable for name in os.environ):
        return f"the environment variable {variable}"
    return f"the settings file {config_file()}"


def _describe(exc: ValidationError, overrides: dict[str, Any]) -> str:
    """One line for every invalid setting; pydantic's messages here never quote the input."""
    parts = []
    for error in exc.errors(include_input=False, include_url=False):
        field = str(error["loc"][0]) if error["loc"] else "?"
        reason = str(error["msg"]).removeprefix("Value error, ")
        reason = reason[:1].lower() + reason[1:]
        expected = _EXPECTED.get(field, "a string")
        parts.append(
            f"setting {field} from {_source(field, overrides)}: {reason}; expected {expected}"
        )
    return mask_secrets("; ".join(parts))


def get_settings(**overrides: Any) -> InterfacialSettings:
    """Read the settings afresh (environment and file may change between calls in tests).

    Raises
    ------
    InterfacialError
        If a setting is invalid, or the settings file is not UTF-8, not YAML or has unknown
        keys: one line naming the setting and its source, never its value.

    """
    return InterfacialSettings(**overrides)
