"""Shared fixtures: one embedded database with real CHGNet runs, reused by several tests."""

from __future__ import annotations

import warnings
from pathlib import Path

import pytest

from interfacial.settings import InterfacialSettings


@pytest.fixture(autouse=True)
def _isolated_settings(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No test reads the developer's ~/.interfacial.yaml or writes to ./interfacial-data."""
    monkeypatch.setenv("INTERFACIAL_CONFIG_FILE", str(tmp_path / "no-such-config.yaml"))
    monkeypatch.setenv("INTERFACIAL_DATA_DIR", str(tmp_path / "default-data"))
    for name in (
        "INTERFACIAL_STORE_URI",
        "INTERFACIAL_USE_JOBFLOW_STORE",
        "INTERFACIAL_CALCULATOR",
    ):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture(scope="session")
def computed(tmp_path_factory: pytest.TempPathFactory) -> dict:
    """Real CHGNet surface flows of Li (100), (110) and Li2S up to index 1, in one database."""
    from interfacial.api import run_surfaces

    settings = InterfacialSettings(data_dir=tmp_path_factory.mktemp("db"))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        li = run_surfaces(
            "Li", millers=[[1, 0, 0], [1, 1, 0]], settings=settings, show_progress=False
        )
        li2s = run_surfaces("Li2S", max_index=1, settings=settings, show_progress=False)
    return {"settings": settings, "Li": li, "Li2S": li2s}
