"""Fetch OpenStack service sdists from PyPI and keep the parts govbot reads.

The sdists carry ``api-ref/``, the policy-in-code modules, the microversion ledger and
the release notes (Apache-2.0, like the services). They are fetched in the test run
into a cache (``.cache/sdists``, git-ignored; ``GOVBOT_SDIST_DIR`` overrides) and never
committed. The archive's URL and sha256 come from PyPI's JSON API
(``https://pypi.org/pypi/NAME/json``, the release's files); the archive is downloaded from
files.pythonhosted.org with urllib, checked against that digest, and only its
members under the kept paths are extracted (the ``data`` filter: no links out, no
devices). Nothing of it is built or run, unlike ``pip download``, which runs each
sdist's ``setup.py`` to prepare its metadata.

Usage: python tests/realdata/sdists.py nova==21.0.0 [...]
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sys
import tarfile
import tempfile
import urllib.parse
import urllib.request
from pathlib import Path

HERE = Path(__file__).resolve().parent
JSON_API = "https://pypi.org/pypi/{name}/json"
TIMEOUT = 120
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
    "/LICENSE",
)


def default_cache() -> Path:
    env = os.environ.get("GOVBOT_SDIST_DIR")
    return Path(env) if env else HERE.parents[1] / ".cache" / "sdists"


def sdist_url(name: str, version: str) -> tuple[str, str]:
    """(URL, sha256) of the source archive of ``name`` ``version`` on PyPI."""
    api = JSON_API.format(name=name)
    with urllib.request.urlopen(api, timeout=TIMEOUT) as r:
        project = json.load(r)
    for item in project.get("releases", {}).get(version, []):
        if item.get("packagetype") == "sdist" and str(item.get("url", "")).endswith(".tar.gz"):
            # A mirror of PyPI may answer with URLs relative to the API's.
            return urllib.parse.urljoin(api, item["url"]), item["digests"]["sha256"]
    raise RuntimeError(f"{name} {version} has no .tar.gz sdist on PyPI")


def _download(url: str, sha256: str, into: Path) -> Path:
    target = into / url.rsplit("/", 1)[-1]
    digest = hashlib.sha256()
    with urllib.request.urlopen(url, timeout=TIMEOUT) as r, target.open("wb") as out:
        while chunk := r.read(1 << 20):
            digest.update(chunk)
            out.write(chunk)
    if digest.hexdigest() != sha256:
        raise RuntimeError(f"{url}: sha256 {digest.hexdigest()} is not PyPI's {sha256}")
    return target


def _kept(inner: str) -> bool:
    return "/tests/" not in f"/{inner}" and any(k in f"/{inner}" for k in KEEP)


def fetch(requirement: str, cache: Path | None = None) -> Path:
    """The extracted source tree of ``name==version`` (only the parts govbot reads)."""
    cache = cache or default_cache()
    name, _, version = requirement.partition("==")
    if not name or not version:
        raise ValueError(f"{requirement!r}: give NAME==VERSION")
    target = cache / f"{name}-{version}"
    if (target / ".complete").exists():
        return target
    cache.mkdir(parents=True, exist_ok=True)
    url, sha256 = sdist_url(name, version)
    with tempfile.TemporaryDirectory(dir=cache) as tmp:
        tarball = _download(url, sha256, Path(tmp))
        staging = Path(tmp) / "tree"
        with tarfile.open(tarball) as tar:
            members = []
            for member in tar.getmembers():
                inner = member.name.split("/", 1)[1] if "/" in member.name else ""
                if member.isfile() and _kept(inner):
                    member.name = inner
                    members.append(member)
            tar.extractall(staging, members=members, filter="data")
        if target.exists():
            shutil.rmtree(target)  # an earlier fetch that did not complete
        staging.rename(target)
    (target / ".complete").write_text(f"{requirement}\n{url}\nsha256 {sha256}\n")
    return target


if __name__ == "__main__":
    if not sys.argv[1:] or any("==" not in a for a in sys.argv[1:]):
        sys.exit("usage: python tests/realdata/sdists.py NAME==VERSION [...]")
    for req in sys.argv[1:]:
        print(fetch(req))
