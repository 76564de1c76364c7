"""The lock files install what pyproject.toml declares, pinned and hashed (installation
qualification: the same install on every machine, and an upstream release changes nothing
until `make lock` is run and reviewed)."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[5]
PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==([^\s;\\]+)")


def pins(lock: str) -> dict[str, str]:
    """Package name → pinned version, from a `uv pip compile` output."""
    found: dict[str, str] = {}
    for line in (ROOT / lock).read_text().splitlines():
        match = PIN.match(line)
        if match:
            found[canonicalize_name(match.group(1))] = match.group(2)
    return found


def declared(extras: tuple[str, ...], groups: tuple[str, ...]) -> list[Requirement]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())
    names = list(project["project"]["dependencies"])
    for extra in extras:
        names += project["project"]["optional-dependencies"][extra]
    for group in groups:
        names += project["dependency-groups"][group]
    return [Requirement(name) for name in names]


@pytest.mark.parametrize(
    ("lock", "extras", "groups"),
    [("requirements.lock", (), ()),
     ("requirements-dev.lock", ("test", "bench"), ("build",))],
)
def test_lock_pins_every_declared_dependency_within_its_range(
    lock: str, extras: tuple[str, ...], groups: tuple[str, ...]
) -> None:
    pinned = pins(lock)
    outside = [
        f"{req.name}{req.specifier} locked at {pinned.get(canonicalize_name(req.name))}"
        for req in declared(extras, groups)
        if not req.specifier.contains(pinned.get(canonicalize_name(req.name), "0"),
                                      prereleases=True)
        or canonicalize_name(req.name) not in pinned
    ]
    assert outside == []


def test_runtime_lock_agrees_with_the_dev_lock() -> None:
    runtime, dev = pins("requirements.lock"), pins("requirements-dev.lock")
    assert {name: (version, dev.get(name)) for name, version in runtime.items()
            if dev.get(name) != version} == {}


@pytest.mark.parametrize("lock", ["requirements.lock", "requirements-dev.lock"])
def test_every_pin_carries_a_hash(lock: str) -> None:
    text = (ROOT / lock).read_text()
    blocks = re.split(r"\n(?=[A-Za-z0-9])", text.split("\n", 2)[2])
    unhashed = [block.split(" ", 1)[0] for block in blocks
                if PIN.match(block) and "--hash=sha256:" not in block]
    assert unhashed == []
