from __future__ import annotations

from pathlib import Path

import pytest

from harness.core.simulate import Platform
from harness.paths import project_root
from harness.spec.catalogue import Catalogue
from harness.spec.loader import load_catalogue

ROOT = project_root()


@pytest.fixture(scope="session")
def catalogue() -> Catalogue:
    return load_catalogue(ROOT / "specs")


@pytest.fixture
def platform(catalogue: Catalogue) -> Platform:
    """A simulated platform after the default start-up: one telephony channel, session S1."""
    platform = Platform(catalogue)
    platform.startup([{}], "S1")
    return platform


@pytest.fixture
def specs_copy(tmp_path: Path) -> Path:
    """A writable copy of the spec catalogue, to break on purpose."""
    import shutil

    target = tmp_path / "specs"
    shutil.copytree(ROOT / "specs", target)
    return target
