"""Where mbconform finds its specs and suites, and where it writes reports.

A source checkout (the README's way) keeps ``specs/`` and ``suites/`` beside the ``harness`` package;
``MBCONFORM_HOME`` points elsewhere.
"""

from __future__ import annotations

import os
from pathlib import Path


def project_root() -> Path:
    home = os.environ.get("MBCONFORM_HOME")
    return Path(home).resolve() if home else Path(__file__).resolve().parent.parent


def specs_dir() -> Path:
    return project_root() / "specs"


def suites_dir() -> Path:
    return project_root() / "suites"


def default_profile() -> Path:
    return suites_dir() / "profiles" / "reference-generic.yaml"


def reference_profiles() -> list[Path]:
    """The profiles of the embedded reference adapter: one per platform set-up it is certified on."""
    return sorted((suites_dir() / "profiles").glob("reference-*.yaml"))


def reports_dir() -> Path:
    return project_root() / "reports"
