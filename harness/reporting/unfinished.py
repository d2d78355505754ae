"""The reports of a run that has not ended yet: written before anything starts, replaced when the run ends.

A run may be stopped at any moment: Ctrl-C while the reference adapter starts, SIGTERM from a cancelled CI job
during collection, or SIGKILL, which nothing can catch. So ``run`` and ``fuzz`` first write a certificate that
says *interrupted, not certified* and a JUnit file with one error, and remove the Allure results of an earlier
run. The plugin replaces all three when the test session ends, even an interrupted one; whatever stops the run
before that leaves these, never the certified reports of an earlier run in the same folder.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path
from xml.sax.saxutils import quoteattr

from .. import __version__
from ..core.redact import Redactor
from .certificate import Certificate, write_certificate

# what allure-pytest and mbconform write into allure-results/ (the rest of the folder is not ours to clear)
ALLURE_FILE = re.compile(
    r"^.+-(?:result\.json|container\.json|attachment(?:\..+)?)$"
    r"|^(?:categories\.json|environment\.properties|executor\.json)$"
)
NOT_ENDED = "the run was stopped before its first test ended: nothing was tested"
NOT_LOADED = "not loaded (the run was stopped before it read the catalogue)"
JUNIT = (
    '<?xml version="1.0" encoding="utf-8"?>\n'
    '<testsuites><testsuite name="mbconform" tests="1" errors="1" failures="0" skipped="0">'
    f'<testcase classname="mbconform" name="run"><error message={quoteattr(NOT_ENDED)}/></testcase>'
    "</testsuite></testsuites>\n"
)


def write_unfinished(reports: Path, url: str | None, certificate: bool = True) -> list[Path]:
    """Write the reports of a run that has not ended (``url``: the adapter's, None for the embedded one;
    ``certificate``: whether the run writes one when it ends, as ``run`` does and ``fuzz`` does not)."""
    written: list[Path] = []
    if certificate:
        shown = Redactor().url(url) if url else "the embedded reference adapter"
        date = datetime.now(UTC).isoformat(timespec="seconds")
        written += write_certificate(reports, Certificate(shown, __version__, NOT_LOADED, date, (), True))
        (reports / "summary.json").unlink(missing_ok=True)  # an earlier run's: none until this run's session ends
    junit = reports / "junit.xml"
    junit.write_text(JUNIT, encoding="utf-8")
    results = reports / "allure-results"
    results.mkdir(parents=True, exist_ok=True)
    for path in results.iterdir():  # only what an earlier run wrote there: never another file, never a folder
        if ALLURE_FILE.match(path.name) and path.is_file():
            path.unlink(missing_ok=True)
    return [*written, junit]


def settle(written: list[Path]) -> None:
    """After a run that ended: remove what it did not replace (a run that collected no conformance case writes
    no certificate, and must not leave one that says it was interrupted)."""
    for path in written:
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            continue
        if text == JUNIT or NOT_LOADED in text:
            path.unlink(missing_ok=True)
