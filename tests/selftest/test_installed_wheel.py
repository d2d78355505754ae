"""``pip install`` works from anywhere (issue 18): the wheel carries the catalogue and the suites, and an
installed mbconform certifies the reference adapter from a folder outside the checkout, its reports there.

The wheel is built from a copy of the checkout (the worktree is never written to), installed with
``--no-index --no-deps`` into a fresh virtual environment, and given the already-installed dependencies by a
``.pth`` line (a path, so the editable install's own ``.pth`` finder there is not run).
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import sysconfig
import venv
import zipfile
from pathlib import Path

import pytest

from harness.paths import CHECKOUT

pytestmark = pytest.mark.selftest
SECONDS = 120
IGNORED = shutil.ignore_patterns(
    ".venv",
    "node_modules",
    "reports",
    "build",
    "dist",
    "*.egg-info",
    "__pycache__",
    ".*cache",
    ".hypothesis",
    ".git",
)


def _run(command: list[str], cwd: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, timeout=SECONDS, check=False)


def _build_wheel(tmp_path: Path) -> Path:
    source = tmp_path / "source"
    shutil.copytree(CHECKOUT, source, ignore=IGNORED)
    wheels = tmp_path / "wheels"
    pip = [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "--no-index", "-q"]
    done = _run([*pip, "-w", str(wheels), str(source)], tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    (wheel,) = wheels.glob("mbconform-*.whl")
    return wheel


def _shipped(folder: str) -> set[str]:
    return {
        path.relative_to(CHECKOUT).as_posix()
        for path in (CHECKOUT / folder).rglob("*")
        if path.is_file() and "__pycache__" not in path.parts and not path.name.startswith(".")
    }


def test_the_installed_wheel_certifies_the_reference_adapter_from_another_folder(tmp_path: Path) -> None:
    wheel = _build_wheel(tmp_path)
    with zipfile.ZipFile(wheel) as archive:
        data = {name.removeprefix("harness/_data/") for name in archive.namelist() if "/_data/" in name}
    assert data == _shipped("specs") | _shipped("suites")

    env_dir = tmp_path / "env"
    venv.EnvBuilder(with_pip=False).create(env_dir)
    python = env_dir / "bin" / "python"
    install = [sys.executable, "-m", "pip", "--python", str(python), "install", "--no-index", "--no-deps", "-q"]
    done = _run([*install, str(wheel)], tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    site = _run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"], tmp_path)
    (Path(site.stdout.strip()) / "mbconform-deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")

    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    env = {"PATH": f"{env_dir / 'bin'}:/usr/bin:/bin", "HOME": str(tmp_path)}  # no MBCONFORM_*, no checkout
    where = _run(
        [str(python), "-c", "import harness, harness.paths as p; print(harness.__file__, p.specs_dir())"],
        elsewhere,
        env,
    )
    assert str(env_dir) in where.stdout and "/_data/specs" in where.stdout, where.stdout + where.stderr

    run = [str(env_dir / "bin" / "mbconform"), "run", "--profile", "reference-generic", "-k", "MB-SESS-ROBUST-001"]
    done = _run(run, elsewhere, env)
    assert done.returncode == 0, done.stdout + done.stderr
    reports = elsewhere / "reports"
    assert (reports / "junit.xml").is_file() and (reports / "certificate.md").is_file()
    assert list((reports / "allure-results").glob("*-result.json"))
    assert "npx allure" in done.stdout  # no Node beside the installed package: one line says how to get the HTML
    assert not (Path(site.stdout.strip()) / "reports").exists()
    assert not (Path(site.stdout.strip()) / "harness" / "_data" / "reports").exists()
