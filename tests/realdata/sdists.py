"""Fetch OpenStack service sdists from PyPI with pip and keep the parts govbot reads.

The sdists carry ``api-ref/``, the policy-in-code modules, the microversion ledger and
the release notes (Apache-2.0, like the services). They are fetched in the test run into
a cache (``.cache/sdists``, git-ignored; ``GOVBOT_SDIST_DIR`` overrides) and never
committed. ``pip download`` prepares an sdist's metadata, which old releases can only
do with the setuptools of their time, so a failed download is retried once with
``tests/realdata/legacy-build-constraints.txt`` (pip applies ``PIP_CONSTRAINT`` to the
isolated build environment too).

Usage: python tests/realdata/sdists.py nova==21.0.0 [...]
"""

from __future__ import annotations

import os
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
LEGACY = HERE / "legacy-build-constraints.txt"
# Only these parts of a service's source are kept.
KEEP = (
    "api-ref/",
    "/policies/",
    "/policy/",
    "api_version_request.py",
    "microversions.py",
    "microversion.py",
    "rest_api_version_history.rst",
    "releasenotes/notes/",
)


def default_cache() -> Path:
    env = os.environ.get("GOVBOT_SDIST_DIR")
    return Path(env) if env else HERE.parents[1] / ".cache" / "sdists"


def _download(requirement: str, name: str, into: Path) -> Path:
    env = dict(os.environ, PIP_DISABLE_PIP_VERSION_CHECK="1", PIP_NO_INPUT="1")
    errors = []
    for constraints in (None, LEGACY):
        if constraints is not None:
            env["PIP_CONSTRAINT"] = str(constraints)
        proc = subprocess.run(
            [
                sys.executable,
                "-m",
                "pip",
                "download",
                "--no-deps",
                "--no-binary",
                name,
                "--quiet",
                "-d",
                str(into),
                requirement,
            ],
            capture_output=True,
            text=True,
            timeout=900,
            env=env,
            check=False,
        )
        found = sorted(into.glob("*.tar.gz"))
        if proc.returncode == 0 and found:
            return found[0]
        errors.append(proc.stderr.strip().splitlines()[-1:] or ["pip failed"])
    raise RuntimeError(f"pip download {requirement} failed: {errors}")


def fetch(requirement: str, cache: Path | None = None) -> Path:
    """The extracted source tree of ``name==version`` (only the parts govbot reads)."""
    cache = cache or default_cache()
    name, _, version = requirement.partition("==")
    target = cache / f"{name}-{version}"
    if (target / ".complete").exists():
        return target
    cache.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=cache) as tmp:
        tarball = _download(requirement, name, Path(tmp))
        staging = Path(tmp) / "tree"
        with tarfile.open(tarball) as tar:
            members = []
            for member in tar.getmembers():
                inner = member.name.split("/", 1)[1] if "/" in member.name else ""
                if (
                    member.isfile()
                    and "/tests/" not in f"/{inner}"
                    and any(k in f"/{inner}" for k in KEEP)
                ):
                    member.name = inner
                    members.append(member)
            tar.extractall(staging, members=members, filter="data")
        if target.exists():
            raise RuntimeError(f"{target} exists but is incomplete: remove it")
        staging.rename(target)
    (target / ".complete").write_text(requirement + "\n")
    return target


if __name__ == "__main__":
    for req in sys.argv[1:]:
        print(fetch(req))
