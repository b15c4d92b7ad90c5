"""The committed locks: what `make map` and `make test` install is exactly what was tested."""

from __future__ import annotations

import os
import re
import sys
import tomllib
from importlib import metadata
from pathlib import Path

import pytest
from packaging.requirements import Requirement

ROOT = Path(__file__).resolve().parents[1]
PIN = re.compile(r"^([A-Za-z0-9_.\-]+)==([^\s;\\]+)")


def _pins(path: Path) -> dict[str, str]:
    pins = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        m = PIN.match(line)
        if m:
            pins[_canon(m.group(1))] = m.group(2)
    return pins


def _canon(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def test_every_pin_has_a_hash():
    for lock in ("map.lock", "test.lock"):
        text = (ROOT / "requirements" / lock).read_text(encoding="utf-8")
        blocks = re.split(r"\n(?=[A-Za-z0-9_.\-]+==)", text)
        pinned = [b for b in blocks if PIN.match(b)]
        assert pinned, lock
        for block in pinned:
            assert "--hash=sha256:" in block, f"{lock}: no hash for {block.splitlines()[0]}"


def test_map_lock_is_the_test_lock_restricted_to_the_map():
    """The map's packages are the same versions in both locks (test.lock constrains map.lock)."""
    map_pins, test_pins = _pins(ROOT / "requirements/map.lock"), _pins(ROOT / "requirements/test.lock")
    assert set(map_pins) < set(test_pins)
    assert {name: test_pins[name] for name in map_pins} == map_pins
    # the map lock has no test tooling in it
    for tool in ("pytest", "playwright", "nbclient", "hypothesis", "ipykernel"):
        assert tool not in map_pins


def test_every_declared_dependency_is_locked():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    map_pins, test_pins = _pins(ROOT / "requirements/map.lock"), _pins(ROOT / "requirements/test.lock")
    for spec in project["dependencies"]:
        req = Requirement(spec)
        assert _canon(req.name) in map_pins, req.name
        assert req.specifier.contains(map_pins[_canon(req.name)]), (req, map_pins[_canon(req.name)])
    for spec in project["optional-dependencies"]["test"]:
        req = Requirement(spec)
        assert req.specifier.contains(test_pins[_canon(req.name)]), (req, test_pins[_canon(req.name)])


@pytest.mark.skipif(
    not (Path(sys.prefix) / ".test-installed").exists() or os.environ.get("BIGCATS_UNLOCKED") == "1",
    reason="not the locked .venv that `make test` installs (e.g. make test-latest)",
)
def test_the_running_environment_is_the_lock():
    """Every locked package is installed at exactly its locked version (`make test`'s .venv)."""
    wrong = {}
    for name, version in _pins(ROOT / "requirements/test.lock").items():
        try:
            have = metadata.version(name)
        except metadata.PackageNotFoundError:
            have = None
        if have != version:
            wrong[name] = (have, version)
    assert not wrong, f"installed != locked: {wrong}"
