"""Shared fixtures: paths to the bundled layers and a scratch copy of them."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from hypothesis import HealthCheck, Phase, settings

# Hypothesis: "ci" (the default) is small and reproducible (derandomized, no example database), so
# the suite's time stays bounded; `pytest --hypothesis-profile=thorough` draws many more arrangements.
_SLOW_OK = [HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.function_scoped_fixture]
# ci does not shrink a failing example (minutes through the CLI): it prints it and its blob to reproduce.
settings.register_profile("ci", max_examples=5, deadline=None, derandomize=True, database=None,
                          suppress_health_check=_SLOW_OK, print_blob=True,
                          phases=[Phase.explicit, Phase.reuse, Phase.generate])
# thorough: 150 examples (BIGCATS_THOROUGH_EXAMPLES to change), new ones each run, shrunk when one fails
settings.register_profile("thorough", max_examples=int(os.environ.get("BIGCATS_THOROUGH_EXAMPLES", "150")),
                          deadline=None, database=None, suppress_health_check=_SLOW_OK, print_blob=True)


def pytest_configure(config: pytest.Config) -> None:
    """The ci profile unless --hypothesis-profile names another (hypothesis's plugin loads that one)."""
    if not config.getoption("hypothesis_profile", default=None):
        settings.load_profile("ci")


ROOT = Path(__file__).resolve().parents[1]
LAYERS = ROOT / "layers"
SHARED = ROOT.parent / "shared"


@pytest.fixture(scope="session")
def layers_dir() -> Path:
    """The bundled layer folder (read only: tests must not write here)."""
    return LAYERS


@pytest.fixture()
def layers_copy(tmp_path: Path) -> Path:
    """A writable copy of the bundled layers."""
    dest = tmp_path / "layers"
    shutil.copytree(LAYERS, dest)
    return dest


@pytest.fixture(scope="session")
def built(tmp_path_factory: pytest.TempPathFactory):
    """One build of the bundled layers into a temporary output folder."""
    from geo.pipeline import build

    out = tmp_path_factory.mktemp("output")
    return build(LAYERS, out)


def skip_or_fail(reason: str) -> None:
    """Skip a test whose system component is missing, but fail in CI.

    ``make test`` installs the components (Chromium, PostgreSQL with PostGIS,
    GDAL's ogrinfo); on CI (``CI=true``) a missing one is a broken install
    step, not a reason to pass quietly.
    """
    if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
        pytest.fail(f"{reason} (CI=true: make test should have installed it)")
    pytest.skip(reason)
