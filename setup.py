"""The wheel carries the catalogue and the suites as package data (``harness/_data/specs``, ``.../suites``).

They stay at the top of the checkout (``specs/`` and ``suites/``), where the project's rules keep them; the
build copies them into the package, so an installed mbconform needs no checkout and no ``MBCONFORM_HOME``
(see ``harness/paths.py``). Everything else is in ``pyproject.toml``.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

HERE = Path(__file__).resolve().parent
DATA = ("specs", "suites")
SKIPPED = shutil.ignore_patterns("__pycache__", "*.pyc", ".*")


class BuildWithData(build_py):
    """``build_py`` that also copies ``specs/`` and ``suites/`` into ``harness/_data/`` of the build."""

    def run(self) -> None:
        super().run()
        if getattr(self, "editable_mode", False):
            return  # an editable install reads them from the checkout
        target = Path(self.build_lib) / "harness" / "_data"
        for name in DATA:
            if (target / name).exists():
                shutil.rmtree(target / name)
            shutil.copytree(HERE / name, target / name, ignore=SKIPPED)


setup(cmdclass={"build_py": BuildWithData})
