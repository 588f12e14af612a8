"""requirements/runtime.txt, what the Dockerfile installs, is requirements/lock.txt
without the test tools: the same versions and hashes, and every package the installed
govbot needs at run time (its dependencies, followed through their metadata)."""

from __future__ import annotations

import importlib.metadata
import re
from pathlib import Path

from packaging.markers import default_environment
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[1]
_PIN = re.compile(r"^([A-Za-z0-9_.-]+)==(\S+)")


def _pins(path: Path) -> dict[str, tuple[str, frozenset[str]]]:
    """name -> (version, hashes) of a hash-pinned requirements file."""
    pins: dict[str, tuple[str, frozenset[str]]] = {}
    name = ""
    for line in path.read_text().splitlines():
        if match := _PIN.match(line):
            name = canonicalize_name(match[1])
            pins[name] = (match[2].rstrip(" \\;"), frozenset())
        elif name and (found := re.search(r"--hash=(sha256:[0-9a-f]+)", line)):
            version, hashes = pins[name]
            pins[name] = (version, hashes | {found[1]})
    return pins


def _runtime_closure() -> set[str]:
    """Every distribution the installed govbot needs without extras, on this platform."""
    env = {**default_environment(), "extra": ""}
    wanted, seen = ["govbot"], set()
    while wanted:
        name = canonicalize_name(wanted.pop())
        if name in seen:
            continue
        seen.add(name)
        for text in importlib.metadata.requires(name) or []:
            req = Requirement(text)
            if req.marker is None or req.marker.evaluate(env):
                wanted.append(req.name)
    return seen - {"govbot"}


def test_the_runtime_lock_pins_what_the_lock_pins() -> None:
    lock, runtime = _pins(ROOT / "requirements/lock.txt"), _pins(ROOT / "requirements/runtime.txt")
    assert runtime, "requirements/runtime.txt pins nothing"
    differ = {n: (v, lock.get(n)) for n, v in runtime.items() if lock.get(n) != v}
    assert not differ, f"runtime.txt and lock.txt disagree (run make lock): {differ}"


def test_the_runtime_lock_covers_what_govbot_needs_and_no_test_tool() -> None:
    runtime = set(_pins(ROOT / "requirements/runtime.txt"))
    missing = _runtime_closure() - runtime
    assert not missing, f"requirements/runtime.txt lacks {sorted(missing)} (run make lock)"
    test_tools = {canonicalize_name(n) for n in ("pytest", "playwright", "aiosmtpd", "ruff")}
    assert not runtime & test_tools


def test_the_dockerfile_installs_from_the_runtime_lock() -> None:
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert "--require-hashes --no-deps -r /src/requirements/runtime.txt" in dockerfile
    assert "--no-index" in dockerfile
