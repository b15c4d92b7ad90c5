"""The package is ruff- and mypy-clean (numpy docstrings, complexity at most 15): ``make test`` runs both.

Both tools come from the test lock (``requirements/test.lock``), so every machine runs the same
versions; their settings are in ``pyproject.toml``.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent

#: What ruff checks: the package, and the scripts and benchmarks that drive it.
RUFF_PATHS = ["geo", "scripts", "benchmarks"]


def _run(*argv: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(argv, cwd=ROOT, capture_output=True, text=True, timeout=600)


def test_ruff_finds_nothing():
    done = _run(str(BIN / "ruff"), "check", "--no-cache", *RUFF_PATHS)
    assert done.returncode == 0, done.stdout[-6000:] + done.stderr[-2000:]


def test_mypy_finds_nothing():
    done = _run(str(BIN / "mypy"), "--no-incremental", "geo")
    assert done.returncode == 0, done.stdout[-6000:] + done.stderr[-2000:]
