"""Build the single-file HTML report with the pinned Allure 3 CLI (npm package ``allure``).

``allure awesome --single-file`` writes one HTML file into which it hard-codes an analytics script tag;
it is removed so the report never reaches out to the internet. The step fails loudly if it cannot remove
it, rather than ship a report that phones home.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

from .verdicts import categories

REPORT_SECONDS = 300
REPORT_NAME = "mbconform conformance report"
HIDDEN_LABELS = ("thread", "framework", "language", "host", "package", "suite", "parentSuite", "subSuite")
# Script tags that load code from another host. A single-file report needs none.
EXTERNAL_SCRIPT = re.compile(r"<script\b[^>]*\bsrc\s*=\s*[\"']?(?:https?:)?//[^>]*>\s*</script>", re.IGNORECASE)
REMOTE_URL = re.compile(r"https?://(?:www\.)?(?:googletagmanager|google-analytics)\.com[^\"' )]*", re.IGNORECASE)


ALLURE_VERSION = "3.18.0"  # the version package.json pins


def allure_cli(root: Path) -> Path | None:
    """The Allure CLI: the checkout's pinned one (``npm ci``), one installed in the current folder, or on PATH."""
    for folder in (root, Path.cwd()):
        candidate = folder / "node_modules" / ".bin" / "allure"
        if candidate.exists():
            return candidate
    found = shutil.which("allure")
    return Path(found) if found else None


def how_to_get_html(reports: Path) -> str:
    """One line: how to build the HTML report where the Allure CLI (Node) is missing."""
    return (
        f"mbconform: no HTML report (it needs Node): 'npm install allure@{ALLURE_VERSION}' here, then "
        f"'mbconform report --reports {reports}'; or 'npx allure@{ALLURE_VERSION} awesome "
        f"{reports / 'allure-results'} --single-file'"
    )


def strip_remote_scripts(html: str) -> tuple[str, int]:
    """Remove every external <script src=...> and inline analytics bootstrap; return the count removed."""
    cleaned, removed = EXTERNAL_SCRIPT.subn("", html)
    inline = re.compile(
        r"<script\b[^>]*>(?:(?!</script>).)*?(?:gtag\(|dataLayer)(?:(?!</script>).)*</script>",
        re.IGNORECASE | re.DOTALL,
    )
    cleaned, more = inline.subn("", cleaned)
    return cleaned, removed + more


def build_report(reports: Path, root: Path, quiet_if_missing: bool = False) -> int:
    results = reports / "allure-results"
    output = reports / "allure-report"
    cli = allure_cli(root)
    if cli is None:
        if not quiet_if_missing:
            print(how_to_get_html(reports), file=sys.stderr)
            return 2
        print(how_to_get_html(reports))
        return 0
    if not results.is_dir():
        print(f"mbconform report: no Allure results in {results}", file=sys.stderr)
        return 2
    if output.exists():
        shutil.rmtree(output)
    config = reports / "allurerc.mjs"
    config.write_text(
        "// Written by mbconform for each report: Allure 3 reads categories from its config only.\n"
        "export default " + json.dumps({"name": REPORT_NAME, "categories": categories()}, indent=1) + ";\n",
        encoding="utf-8",
    )
    command = [str(cli), "awesome", str(results), "--config", str(config), "--single-file"]
    command += ["--output", str(output), "--report-name", REPORT_NAME, "--group-by", "epic,feature,story"]
    for label in HIDDEN_LABELS:
        command += ["--hide-labels", label]
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=REPORT_SECONDS, check=False)
    except subprocess.TimeoutExpired:
        print(f"mbconform report: the Allure CLI took more than {REPORT_SECONDS}s", file=sys.stderr)
        return 2
    index = output / "index.html"
    if done.returncode != 0 or not index.is_file():
        print(f"mbconform report: the Allure CLI failed:\n{done.stdout}\n{done.stderr}", file=sys.stderr)
        return 2
    html, removed = strip_remote_scripts(index.read_text(encoding="utf-8"))
    leftover = REMOTE_URL.findall(html)
    if leftover:
        print(f"mbconform report: analytics addresses remain in the report: {leftover[:3]}", file=sys.stderr)
        return 2
    index.write_text(html, encoding="utf-8")
    print(f"mbconform: HTML report {index} ({removed} remote script tag(s) removed)")
    return 0
