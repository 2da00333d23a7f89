#!/usr/bin/env python3
"""Build a polls release on the controller: a wheel plus a locked wheelhouse.

    build-release.py SOURCE_DIR CACHE_DIR PYTHON_VERSION [PYTHON_VERSION ...]

The release id is the project version and a hash of the files that go into the
wheel, so the same source always gives the same id and an unchanged tree
builds nothing. For each target Python (``3.11``, ``3.13``) it downloads
binary wheels of the locked dependencies, checked against the lock's hashes,
so hosts install with ``pip --no-index`` and need no access to PyPI.

Each target Python gets one archive, ``polls-<version>-py<X.Y>.tar``, holding
the wheel, the lock and ``wheels/``: one file to copy per host.

This script is the one place that names a release's files. It prints one
JSON object, which the role reads instead of re-deriving names::

    {"id": "<version>-<hash>", "path": CACHE_DIR/<id>, "wheel": "polls-...whl",
     "archives": {"3.11": "polls-<id>-py3.11.tar", ...}, "changed": bool}
"""

import hashlib
import json
import os
import platform
import shutil
import subprocess
import sys
import tarfile
import tempfile
import tomllib
from pathlib import Path

IGNORED_PARTS = {"__pycache__", "tests", "staticfiles", ".pytest_cache"}
IGNORED_SUFFIXES = {".pyc", ".sqlite3", ".sqlite3-wal", ".sqlite3-shm", ".db"}


def source_files(source: Path) -> list[Path]:
    """The files whose content defines a release."""
    files = [
        source / "pyproject.toml",
        source / "requirements.lock",
        source / "build-requirements.lock",
    ]
    for path in sorted((source / "polls").rglob("*")):
        relative = path.relative_to(source)
        if (
            path.is_file()
            and not IGNORED_PARTS.intersection(relative.parts)
            and path.suffix not in IGNORED_SUFFIXES
        ):
            files.append(path)
    return files


def release_id(source: Path) -> str:
    version = tomllib.loads((source / "pyproject.toml").read_text())["project"][
        "version"
    ]
    digest = hashlib.sha256()
    for path in source_files(source):
        digest.update(str(path.relative_to(source)).encode() + b"\0")
        digest.update(path.read_bytes() + b"\0")
    return f"{version}-{digest.hexdigest()[:10]}"


def pip(*args: str) -> None:
    subprocess.run(
        [sys.executable, "-m", "pip", "--disable-pip-version-check", *args],
        check=True,
        stdout=sys.stderr,
    )


def build_environment(source: Path, cache: Path) -> Path:
    """A virtual environment holding build-requirements.lock, hash-checked;
    one per lock, kept in the cache. Its python."""
    lock = source / "build-requirements.lock"
    digest = hashlib.sha256(lock.read_bytes()).hexdigest()[:10]
    environment = cache / f"build-env-{digest}"
    python = environment / "bin" / "python"
    if not (environment / ".complete").exists():
        shutil.rmtree(environment, ignore_errors=True)
        subprocess.run([sys.executable, "-m", "venv", environment], check=True)
        subprocess.run(
            [
                python,
                "-m",
                "pip",
                "install",
                "--quiet",
                "--disable-pip-version-check",
                "--require-hashes",
                "--no-deps",
                "--only-binary=:all:",
                "-r",
                lock,
            ],
            check=True,
            stdout=sys.stderr,
        )
        (environment / ".complete").touch()
    return python


def build_wheel(source: Path, release: Path, python: Path) -> None:
    with tempfile.TemporaryDirectory() as scratch:
        # Copy the tree so the build leaves no build/ or egg-info in the repo.
        tree = Path(scratch) / "src"
        shutil.copytree(
            source,
            tree,
            ignore=shutil.ignore_patterns(
                "__pycache__", "*.sqlite3*", "staticfiles", "build", "*.egg-info"
            ),
        )
        # The build environment's setuptools, not one fetched for the build.
        subprocess.run(
            [
                python,
                "-m",
                "pip",
                "wheel",
                "--quiet",
                "--disable-pip-version-check",
                "--no-deps",
                "--no-build-isolation",
                "--no-index",
                "--wheel-dir",
                release,
                tree,
            ],
            check=True,
            stdout=sys.stderr,
        )


def download_wheelhouse(source: Path, target: Path, python: str) -> None:
    machine = platform.machine()
    tag = python.replace(".", "")
    platforms = [
        f"manylinux_2_{minor}_{machine}" for minor in (36, 34, 31, 28, 17, 5)
    ] + [f"manylinux2014_{machine}", f"manylinux1_{machine}", f"linux_{machine}"]
    args = [
        "download",
        "--quiet",
        "--require-hashes",
        "--only-binary=:all:",
        "--implementation=cp",
        f"--python-version={python}",
        f"--abi=cp{tag}",
        "--dest",
        str(target),
        "-r",
        str(source / "requirements.lock"),
    ]
    for name in platforms:
        args.append(f"--platform={name}")
    pip(*args)


def archive_name(version: str, python: str) -> str:
    """The archive of one release for one target Python."""
    return f"polls-{version}-py{python}.tar"


def main() -> None:
    source, cache, *pythons = sys.argv[1:]
    if not pythons:
        sys.exit("usage: build-release.py SOURCE_DIR CACHE_DIR PYTHON_VERSION...")
    source_dir = Path(source).resolve()
    version = release_id(source_dir)
    release = Path(cache).resolve() / version
    changed = False
    if not any(release.glob("polls-*.whl")):
        release.mkdir(parents=True, exist_ok=True)
        build_wheel(
            source_dir, release, build_environment(source_dir, Path(cache).resolve())
        )
        shutil.copy2(source_dir / "requirements.lock", release / "requirements.lock")
        changed = True
    for python in sorted(set(pythons)):
        archive = release / archive_name(version, python)
        if not archive.exists():
            with tempfile.TemporaryDirectory(dir=release) as scratch:
                download_wheelhouse(source_dir, Path(scratch), python)
                partial = Path(scratch) / "archive.tar"
                with tarfile.open(partial, "w") as tar:
                    for wheel in release.glob("polls-*.whl"):
                        tar.add(wheel, arcname=wheel.name)
                    tar.add(release / "requirements.lock", arcname="requirements.lock")
                    for wheel in sorted(Path(scratch).glob("*.whl")):
                        tar.add(wheel, arcname=f"wheels/{wheel.name}")
                os.replace(partial, archive)
            changed = True
    wheel = next(release.glob("polls-*.whl"))
    archives = {
        python: archive_name(version, python) for python in sorted(set(pythons))
    }
    print(
        json.dumps(
            {
                "id": version,
                "path": str(release),
                "wheel": wheel.name,
                # Checked on the host before the wheel is installed.
                "wheel_sha256": hashlib.sha256(wheel.read_bytes()).hexdigest(),
                "archives": archives,
                "changed": changed,
            }
        )
    )


if __name__ == "__main__":
    main()
