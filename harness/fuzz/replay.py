"""``mbconform replay FILE``: run a reproducer (or any scenario file) and say whether its finding comes back.

Without a URL the embedded reference adapter is started with test control, and the session asks for the
options the file records (``found.adapter``: the faults, platform and facts it was found with).
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from urllib.parse import urlencode

from ..core.results import FlowResult
from ..core.runevents import Note, RunEvent, StepFinished
from ..core.shown import TEXT_CHARS, printable
from ..core.shown import shown as escaped
from ..paths import default_profile, suites_dir
from ..runner.flow import Flow, run_flow
from ..runner.transport import INSECURE_WARNING, Transport
from ..spec.catalogue import Catalogue
from ..spec.loader import SpecError
from ..suite import Profile, Scenario, load_profile, load_scenario
from .reproducer import Replayed, compare


def profile_for(scenario: Scenario, given: Path | None) -> Path:
    """The profile to replay with: the one given, else the reference profile the finding names."""
    if given is not None:
        return given
    name = (scenario.found or {}).get("profile")
    if isinstance(name, str):
        candidate = suites_dir() / "profiles" / f"{name}.yaml"
        if candidate.is_file():
            return candidate
    return default_profile()


def with_query(url: str, *parts: Mapping[str, str | Sequence[str]]) -> str:
    pairs: list[tuple[str, str]] = []
    for part in parts:
        for key, value in part.items():
            pairs.extend((key, item) for item in ([value] if isinstance(value, str) else value))
    if not pairs:
        return url
    return url + ("&" if "?" in url else "?") + urlencode(pairs)


def _printer(event: RunEvent) -> None:
    if isinstance(event, StepFinished):
        print(f"  {event.verdict.name.lower():12} {escaped(event.step.describe())}", flush=True)
        for violation in event.violations:
            first = violation.message.splitlines()[0] if violation.message else ""
            print(f"               [{violation.category.value}] {violation.title}: {first[:300]}", flush=True)
    elif isinstance(event, Note) and event.text.startswith("inconclusive"):
        print(f"  {printable(event.text, TEXT_CHARS)}", flush=True)


def replay(
    scenario: Scenario,
    profile: Profile,
    url: str,
    catalogue: Catalogue,
    *,
    quiet: bool = False,
    connection: Transport | None = None,
) -> tuple[FlowResult, Replayed]:
    """``connection``: the command line's connection options, over the profile's."""
    result = asyncio.run(
        run_flow(
            Flow(scenario.steps, fence=scenario.fence, settle=scenario.settle),
            url=url,
            catalogue=catalogue,
            settings=profile.settings(connection, url),
            listener=(lambda event: None) if quiet else _printer,
        )
    )
    return result, compare(scenario.found, result)


def run_cli(
    path: Path,
    url: str | None,
    profile_path: Path | None,
    catalogue: Catalogue,
    connection: Transport | None = None,
) -> int:
    """Exit 1 when a check fails (the bug is there), 0 when the flow passes (it is fixed), 2 on bad input, 3
    when the adapter cannot be reached or its session start-up fails (plugin/preflight.py)."""
    from ..plugin.preflight import reach
    from ..reference.process import AdapterStartError, RunningAdapter, start_reference

    connection = connection or Transport()

    try:
        scenario = load_scenario(path, catalogue)
        profile = load_profile(profile_for(scenario, profile_path), catalogue)
    except SpecError as exc:
        print(f"mbconform replay: {exc}", file=sys.stderr)
        return 2
    adapter: RunningAdapter | None = None
    if url is None:
        try:
            adapter = start_reference(["--test-control", "--lab-http"])
        except AdapterStartError as exc:
            print(f"mbconform replay: {exc}", file=sys.stderr)
            return 3
        recorded = (scenario.found or {}).get("adapter", {})
        url = with_query(adapter.url, recorded, dict(profile.connect_params))
    else:
        url = with_query(url, dict(profile.connect_params))
    settings = profile.settings(connection, url)
    if settings.transport.insecure and url.lower().startswith("wss://"):
        print(INSECURE_WARNING, file=sys.stderr, flush=True)
    shown = settings.redactor.url(url)
    print(f"mbconform replay {path} ({scenario.id}) against {shown}, profile {profile.name}", flush=True)
    found_with = (scenario.found or {}).get("profile")
    if isinstance(found_with, str) and found_with != profile.name:
        # the profile weighs every violation (its adopted and declared conventions): another may fail or warn
        print(
            f"  note: found with profile {printable(found_with, 200)}; give it with --profile to weigh the "
            "conventions as the fuzz run did",
            flush=True,
        )
    try:
        problem = reach(url, catalogue, settings, shown)
        if problem is not None:
            print(f"mbconform replay: {problem}", file=sys.stderr)
            return 3
        result, replayed = replay(scenario, profile, url, catalogue, connection=connection)
    finally:
        if adapter is not None:
            adapter.stop()
    if result.reason:
        print(f"  ({printable(result.reason, TEXT_CHARS)})")  # it may quote the adapter: escaped (issue 15)
    print(printable(replayed.summary, TEXT_CHARS))
    return 1 if replayed.failed else 0
