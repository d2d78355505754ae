"""Where mbconform finds its specs and suites, and where it writes reports.

The catalogue (``specs/``) and the suites (``suites/``: profiles, call flows, fuzz and bench files) ship
inside the package as ``harness/_data/`` (``setup.py`` copies them into the wheel); a source checkout keeps
them beside the ``harness`` package. A user's own folders take precedence, in this order:

- ``--specs DIR`` / ``--suites DIR`` on the command line (``--suites`` sets ``MBCONFORM_SUITES``),
- ``MBCONFORM_SPECS`` / ``MBCONFORM_SUITES``: one folder each,
- ``MBCONFORM_HOME``: a folder holding both ``specs/`` and ``suites/``.

Reports go to ``./reports`` of the folder where mbconform runs (``--reports DIR`` or ``MBCONFORM_REPORTS``),
never into the installation: two runs from two folders never share or clear each other's results.
"""

from __future__ import annotations

import os
from pathlib import Path

PACKAGED = Path(__file__).resolve().parent / "_data"
CHECKOUT = Path(__file__).resolve().parent.parent
# The environment variables mbconform reads for its folders (shown in every subcommand's --help).
FOLDER_VARIABLES = {
    "MBCONFORM_SPECS": "the spec catalogue folder (default: the one shipped with mbconform)",
    "MBCONFORM_SUITES": "the suites folder: profiles, conformance call flows, fuzz profiles (default: shipped)",
    "MBCONFORM_HOME": "a folder holding both specs/ and suites/ (below the two above)",
    "MBCONFORM_REPORTS": "the reports folder (default: ./reports of the current folder)",
}


def project_root() -> Path:
    """The folder that holds ``specs/`` and ``suites/``: ``MBCONFORM_HOME``, the installed package's data, or
    the source checkout."""
    home = os.environ.get("MBCONFORM_HOME")
    if home:
        return Path(home).resolve()
    return PACKAGED if PACKAGED.is_dir() else CHECKOUT


def specs_dir() -> Path:
    own = os.environ.get("MBCONFORM_SPECS")
    return Path(own).resolve() if own else project_root() / "specs"


def suites_dir() -> Path:
    own = os.environ.get("MBCONFORM_SUITES")
    return Path(own).resolve() if own else project_root() / "suites"


def default_profile() -> Path:
    return suites_dir() / "profiles" / "reference-generic.yaml"


def reference_profiles() -> list[Path]:
    """The profiles of the embedded reference adapter: one per platform set-up it is certified on."""
    return sorted((suites_dir() / "profiles").glob("reference-*.yaml"))


def reports_dir() -> Path:
    """``./reports`` of the folder mbconform runs in (``MBCONFORM_REPORTS`` elsewhere)."""
    own = os.environ.get("MBCONFORM_REPORTS")
    return Path(own).resolve() if own else Path.cwd().resolve() / "reports"


def regression_dir() -> Path:
    """Where the fuzzer writes its reproducers: ``suites/regression/`` of a checkout or of the user's own
    suites folder; ``./regression`` of the current folder when the suites are the installed package's."""
    suites = suites_dir()
    return Path.cwd().resolve() / "regression" if suites.is_relative_to(PACKAGED) else suites / "regression"
