"""`atende.bulk_insert` builds its INSERT with Django's SQL compiler internals, so it stays
only while it works on the next Django too. When the package index offers a Django
pre-release newer than the installed one, this installs it with the project (Django's own
bound in pyproject.toml set aside) into a throwaway virtualenv and runs
tests/test_bulk_insert.py there, on SQLite.

Skipped, with the reason, when the index cannot be reached, when it has no such
pre-release, or when neither uv nor the stdlib `venv` with pip can build the virtualenv.
`ATENDE_NEXT_DJANGO=<version>` tests that version instead of looking one up.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import django
import httpx
import pytest
from packaging.requirements import Requirement
from packaging.version import InvalidVersion, Version

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parent.parent
INDEX = "https://pypi.org/pypi/Django/json"
# What tests/test_bulk_insert.py and tests/conftest.py need besides the project.
TEST_REQUIREMENTS = ["pytest>=8", "pytest-django>=4.11"]
INSTALL_TIMEOUT = 600
RUN_TIMEOUT = 600


def next_django_prerelease() -> str:
    """The newest Django pre-release newer than the installed Django, or a skip."""
    forced = os.environ.get("ATENDE_NEXT_DJANGO")
    if forced:
        return forced
    try:
        response = httpx.get(INDEX, timeout=5, follow_redirects=True)
        response.raise_for_status()
        releases = response.json()["releases"]
    except (httpx.HTTPError, ValueError, KeyError) as exc:
        pytest.skip(f"the package index is not reachable ({INDEX}): {exc}")
    installed = Version(django.__version__)
    candidates = []
    for text, files in releases.items():
        try:
            version = Version(text)
        except InvalidVersion:
            continue
        if (version.is_prerelease and version > installed and files
                and not all(f.get("yanked") for f in files)):
            candidates.append(version)
    if not candidates:
        pytest.skip(f"the package index has no Django pre-release newer than {installed}")
    return str(max(candidates))


def make_venv(where: Path) -> tuple[Path, list[str]]:
    """A new virtualenv's python and the command that installs packages into it."""
    python = where / "bin" / "python"
    uv = os.environ.get("UV") or shutil.which("uv")
    if uv:
        subprocess.run([uv, "venv", "--quiet", "--python", sys.executable, str(where)],
                       check=True, timeout=INSTALL_TIMEOUT)
        return python, [uv, "pip", "install", "--quiet", "--python", str(python)]
    try:
        subprocess.run([sys.executable, "-m", "venv", str(where)], check=True,
                       timeout=INSTALL_TIMEOUT, capture_output=True)
    except subprocess.CalledProcessError as exc:
        pytest.skip(f"no uv, and the stdlib venv failed: {exc.stderr.decode(errors='replace')}")
    return python, [str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]


def project_requirements() -> list[str]:
    """The project's dependencies but Django (whose bound may exclude the pre-release)."""
    with (ROOT / "pyproject.toml").open("rb") as f:
        dependencies: list[str] = tomllib.load(f)["project"]["dependencies"]
    return [d for d in dependencies if Requirement(d).name.lower() != "django"]


def test_bulk_insert_on_the_next_django_prerelease(tmp_path: Path) -> None:
    version = next_django_prerelease()
    python, install = make_venv(tmp_path / "venv")
    for packages in ([f"django=={version}", *project_requirements(), *TEST_REQUIREMENTS],
                     ["--no-deps", str(ROOT)]):
        installed = subprocess.run([*install, *packages], capture_output=True, text=True,
                                   timeout=INSTALL_TIMEOUT)
        assert installed.returncode == 0, installed.stdout + installed.stderr
    got = subprocess.run([str(python), "-c", "import django; print(django.__version__)"],
                         capture_output=True, text=True, check=True).stdout.strip()
    assert Version(got) == Version(version)

    env = {k: v for k, v in os.environ.items()
           if k not in ("DATABASE_URL", "REDIS_URL", "PYTHONPATH", "VIRTUAL_ENV")}
    env["ATENDE_DATA_DIR"] = str(tmp_path / "data")
    ran = subprocess.run(
        [str(python), "-m", "pytest", "-p", "no:cacheprovider", "-q", "-o", "addopts=",
         "--rootdir", str(ROOT), "-c", str(ROOT / "pyproject.toml"),
         str(ROOT / "tests" / "test_bulk_insert.py")],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=RUN_TIMEOUT)
    assert ran.returncode == 0, f"Django {version}:\n{ran.stdout[-4000:]}\n{ran.stderr[-2000:]}"
