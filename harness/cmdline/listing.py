"""``cases``, ``selftest`` and ``bench``: the subcommands that list, measure or self-test."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from ..paths import default_profile, reference_profiles, reports_dir, specs_dir, suites_dir
from .common import catalogue
from .exits import Exit, usage_error
from .testrun import embedded_adapter

if TYPE_CHECKING:
    from ..spec.catalogue import Catalogue


def cases(args: argparse.Namespace) -> int:
    """Every test case of the catalogue and the call flows, per profile, as ``run`` would collect them."""
    import json

    from ..cases import command_cases, scenario_case
    from ..spec.loader import SpecError
    from ..suite import load_profile, load_scenario

    specs = catalogue(args.specs)
    try:
        profiles = [load_profile(path, specs) for path in args.profile or reference_profiles()]
        paths = sorted((suites_dir() / "conformance").rglob("*.yaml"))
        scenarios = [load_scenario(path, specs) for path in paths]
    except SpecError as exc:
        print(f"mbconform cases: the profiles or scenarios have problems:\n{exc}", file=sys.stderr)
        return int(Exit.USAGE)
    listed = []
    for profile in profiles:
        cases = command_cases(specs, profile) + [scenario_case(s, profile) for s in scenarios]
        listed.append((profile, cases))
    if args.json:
        print(
            json.dumps(
                {
                    "catalogue_version": specs.version,
                    "profiles": [
                        {
                            "name": profile.name,
                            "file": profile.file,
                            "platform": profile.platform,
                            "cases": [
                                {
                                    "id": case.id,
                                    "title": case.title,
                                    "level": case.level,
                                    "feature": case.feature,
                                    "story": case.story,
                                    "applicable": case.applicable,
                                    "why_not": case.why_not,
                                    "markers": list(case.markers),
                                    "ref": str(case.ref),
                                }
                                for case in cases
                            ],
                        }
                        for profile, cases in listed
                    ],
                },
                indent=2,
            )
        )
        return 0
    for profile, cases in listed:
        applicable = sum(case.applicable for case in cases)
        print(f"# profile {profile.name} ({profile.file}, platform {profile.platform}): ", end="")
        print(f"{len(cases)} cases, {applicable} applicable")
        width = max((len(case.id) for case in cases), default=0)
        for case in cases:
            status = "applicable" if case.applicable else f"n/a: {case.why_not}"
            print(f"{case.id:{width}}  {status}  {case.title}")
    return 0


def selftest(args: argparse.Namespace) -> int:
    from ..selftest import run_cli

    return run_cli(
        catalogue(args.specs),
        args.profile or reference_profiles(),
        args.fault,
        quick=args.quick,
        json_path=args.json,
        specs=args.specs,
        step_timeout=args.step_timeout,
        concurrency=args.concurrency,
    )


def bench(args: argparse.Namespace) -> int:
    from dataclasses import replace

    from ..bench.run import FULL, QUICK, BenchOptions, run_cli

    if (args.sessions is not None and args.sessions < 1) or (args.flood is not None and args.flood < 1):
        return usage_error("bench", "--sessions and --flood must be at least 1")
    sizes = QUICK if args.quick else FULL
    sizes = replace(sizes, sessions=args.sessions or sizes.sessions, flood=args.flood or sizes.flood)
    specs = catalogue(args.specs)
    cycle = (args.cycle or suites_dir() / "bench" / "cycle.yaml").resolve()
    if args.url is not None:  # the input files first (exit 2), then whether the adapter is there (exit 3)
        from ..bench.cycle import load_cycle
        from ..spec.loader import SpecError

        try:
            load_cycle(cycle, specs)
        except SpecError as exc:
            return usage_error("bench", str(exc))
        code = _reachable("bench", args.url, args.profile or default_profile(), specs)
        if code:
            return code
    adapter = None if args.url else embedded_adapter(argparse.Namespace(fault=[], specs=args.specs), "bench")
    url = adapter.url if adapter is not None else args.url
    if url is None:
        return int(Exit.UNREACHABLE)
    options = BenchOptions(
        url=url,
        embedded=adapter is not None,
        profile=(args.profile or default_profile()).resolve(),
        specs=(args.specs or specs_dir()).resolve(),
        cycle=cycle,
        reports=(args.reports or reports_dir() / "bench").resolve(),
        sizes=sizes,
        quick=args.quick,
        session_fault=args.session_fault,
    )
    try:
        return run_cli(specs, options)
    finally:
        if adapter is not None:
            adapter.stop()


def _reachable(command: str, url: str, profile_file: Path, specs: Catalogue) -> int:
    """0 when one session starts on the adapter; 2 for a bad profile, 3 (after one message) when the adapter
    cannot be reached or its start-up fails (plugin/preflight.py)."""
    from urllib.parse import urlencode

    from ..plugin.preflight import reach
    from ..runner.transport import Transport
    from ..spec.loader import SpecError
    from ..suite import load_profile

    try:
        profile = load_profile(profile_file, specs)
    except SpecError as exc:
        return usage_error(command, str(exc))
    if profile.connect_params:
        url += ("&" if "?" in url else "?") + urlencode(dict(profile.connect_params))
    settings = profile.settings(Transport(), url)
    problem = reach(url, specs, settings, settings.redactor.url(url))
    if problem is None:
        return 0
    print(f"mbconform {command}: {problem}", file=sys.stderr)
    return int(Exit.UNREACHABLE)
