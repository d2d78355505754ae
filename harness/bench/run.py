"""``mbconform bench``: run every part against one adapter, print the table, write the JSON report."""

from __future__ import annotations

import asyncio
import cProfile
import os
import platform
import resource
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import yaml

from .. import __version__
from ..cases import scenario_case
from ..fuzz.run import load_fuzz_profile
from ..paths import default_profile, suites_dir
from ..spec.catalogue import Catalogue
from ..spec.loader import SpecError
from ..spec.yamlfile import load_yaml_file
from ..suite import Profile, load_profile, load_scenario
from .broken import measure_broken
from .cycle import PROFILED_PHASES, BenchCycle, BenchError, CycleFigures, load_cycle, measure_cycle
from .flood import FLAT_MIB, measure_flood
from .fuzz_rate import FuzzRate, fuzz_rate
from .measure import MET, Measure, render_table, write_report
from .profiling import breakdown, describe_breakdown, own_time_leaders, top_functions, write_profile
from .sessions import SessionsRun, run_sessions, session_url
from .suite_time import SuiteTime, time_suite

RATIO_TARGET = 0.70
SUITE_TARGET = 10.0  # seconds
FUZZ_TARGET = 1000.0  # steps per second
WARM_UP_EXAMPLES = 3  # fuzz examples run before the fuzz rates are measured
SUITE_LIMIT = 600.0  # seconds the suite may run before the bench gives up on it
FD_SPARE = 64  # file descriptors beyond two per session
NO_TEST = "no-test-has-this-name"  # a -k expression that selects nothing


@dataclass(frozen=True)
class Sizes:
    """How much of each part to run."""

    rounds: int  # raw/checked rounds
    cycles: int  # cycles per phase
    fuzz_examples: int  # flows per fuzz rate
    profiled_examples: int  # flows under cProfile
    flood: int  # events
    sessions: int
    suite_args: tuple[str, ...]  # pytest arguments (quick: the call flows only)
    suite_breakdown: bool  # also time the suite with the settle window at 0, and with no test selected
    suite_runs: int = 1  # the suite's wall time is the median of this many runs (the machine may be shared)
    broken_args: tuple[str, ...] = ()  # the reference suite against set-up-blocking faults (quick: a selection)


FULL = Sizes(15, 50, 40, 15, 1_000_000, 50, (), True, 3)
QUICK = Sizes(
    3,
    10,
    3,
    2,
    20_000,
    8,
    ("-m", "scenario"),
    False,
    broken_args=("--profile", str(default_profile()), "-m", "scenario"),
)


@dataclass(frozen=True)
class BenchOptions:
    url: str  # the adapter (the embedded reference adapter's URL when none was given)
    embedded: bool
    profile: Path
    specs: Path
    cycle: Path
    reports: Path  # the JSON and profiles go here (reports/bench/)
    sizes: Sizes
    quick: bool = False
    session_fault: str | None = None  # run the sessions with this reference fault (the bench's own test)


def run_cli(catalogue: Catalogue, options: BenchOptions) -> int:
    """0 when the bench ran (targets met or not), 1 when sessions failed, 2 when it could not run."""
    try:
        profile = load_profile(options.profile, catalogue)
        cycle = load_cycle(options.cycle, catalogue)
    except SpecError as exc:
        print(f"mbconform bench: {exc}", file=sys.stderr)
        return 2
    bench = Bench(catalogue, options, profile, cycle).run()
    if bench.interrupted or any(m.key.startswith("error_") for m in bench.measures):
        return 2  # a part could not run (or the bench was stopped): the report says which
    sessions = next((m for m in bench.measures if m.key == "sessions_not_passed"), None)
    return 0 if sessions is not None and sessions.status == MET else 1


class Bench:
    def __init__(self, catalogue: Catalogue, options: BenchOptions, profile: Profile, cycle: BenchCycle) -> None:
        self.catalogue = catalogue
        self.options = options
        self.profile = profile
        self.cycle = cycle
        self.sizes = options.sizes
        self.measures: list[Measure] = []
        self.interrupted = False  # Ctrl-C or SIGTERM: the parts that ended are reported
        self.details: dict[str, Any] = {}
        self.files: dict[str, str] = {}
        self.url = session_url(options.url, profile)
        self.shown_url = profile.settings().redactor.url(options.url)  # what the table and the JSON show

    def run(self) -> Bench:
        started = time.perf_counter()
        load_before = os.getloadavg()[0]
        out = self.options.reports
        mode = "quick" if self.options.quick else "full"
        print(
            f"mbconform bench ({mode}) against {self.shown_url}, profile {self.profile.name}; settle 0 for the "
            f"raw/checked steps and the fuzzing; load average {load_before:.2f} on {os.cpu_count()} cores",
            flush=True,
        )
        for title, part in (
            ("raw and checked steps", self.cycle_part),
            ("the conformance suite", self.suite_part),
            ("the reference suite against set-up-blocking faults", self.broken_part),
            ("stateful fuzzing", self.fuzz_part),
            (f"a flood of {self.sizes.flood:,} events", self.flood_part),
            (f"{self.sizes.sessions} sessions at once", self.sessions_part),
        ):
            print(f"  {title}...", flush=True)
            part_started = time.perf_counter()
            try:
                part()
            except (BenchError, OSError, ValueError) as exc:
                self.measures.append(Measure(f"error_{len(self.measures)}", title, None, "", "-", why=str(exc)))
            except KeyboardInterrupt:
                self.interrupted = True
                why = "interrupted (Ctrl-C or SIGTERM): this part and the ones after it did not run"
                self.measures.append(Measure(f"error_{len(self.measures)}", title, None, "", "-", why=why))
                print(f"  {title}: interrupted", flush=True)
                break
            print(f"  {title}: {time.perf_counter() - part_started:.1f}s", flush=True)
        seconds = time.perf_counter() - started
        load_after = os.getloadavg()[0]
        table = render_table(self.measures)
        print()
        print(table)
        report = {
            "mbconform": __version__,
            "date": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "mode": mode,
            "interrupted": self.interrupted,
            "adapter": self.shown_url,
            "embedded_reference_adapter": self.options.embedded,
            "profile": {"name": self.profile.name, "file": self.profile.file},
            "cycle": {"name": self.cycle.name, "file": self.cycle.file, "commands": list(self.cycle.commands)},
            "settle": "0 for the raw/checked steps and the fuzzing (a settle window is a quiet wait, not a "
            "check); the suite uses the profile's",
            "machine": {
                "cpus": os.cpu_count(),
                "python": platform.python_version(),
                "system": platform.platform(),
                "load_average_1min": {"start": round(load_before, 2), "end": round(load_after, 2)},
            },
            "sizes": asdict(self.sizes),
            "seconds": round(seconds, 2),
            "measures": [measure.to_json() for measure in self.measures],
            "details": self.details,
            "files": self.files,
        }
        path = write_report(out, report)
        loads = f"load average {load_before:.2f} at the start, {load_after:.2f} at the end"
        print(f"\nbench took {seconds:.1f}s; {loads} (other work on the machine lowers every rate)")
        print(f"wrote {path} and {out / 'latest.json'}")
        for name, file in sorted(self.files.items()):
            print(f"{name}: {file}")
        return self

    def add(self, measure: Measure) -> None:
        self.measures.append(measure)

    # -- raw and checked -----------------------------------------------------------------------------

    def cycle_part(self) -> None:
        sizes = self.sizes
        figures = asyncio.run(
            measure_cycle(
                self.url,
                self.catalogue,
                self.profile.settings(),
                self.cycle,
                rounds=sizes.rounds,
                cycles=sizes.cycles,
            )
        )
        raw, checked = CycleFigures.median(figures.raw_rates), CycleFigures.median(figures.checked_rates)
        ratio = CycleFigures.median(figures.ratios)
        steps = f"{' / '.join(self.cycle.commands)} on {figures.target}"
        self.add(
            Measure("raw_rate", "raw request/response (bare websockets)", raw, "steps/s", "none: the ceiling")
        )
        self.add(Measure("checked_rate", "checked steps (all checks + oracle)", checked, "steps/s", "none"))
        problems = []
        if figures.checked_not_passed:
            problems.append(f"{figures.checked_not_passed} checked steps did not pass")
        if figures.frames_differ:
            problems.append(f"{figures.frames_differ} checked phases received other frames than recorded")
        why = "; ".join(problems)
        leaders: list[dict[str, Any]] = []
        shares: dict[str, float] = {}
        if figures.profile is not None:
            path = self.options.reports / "profile-checked.txt"
            write_profile(
                figures.profile,
                path,
                f"a checked phase of {figures.steps_per_phase * PROFILED_PHASES} steps: {steps}",
            )
            self.files["profile of the checked steps"] = str(path)
            leaders = own_time_leaders(figures.profile, only="harness")
            shares = breakdown(figures.profile)
            self.details["checked_profile"] = {"shares": shares, "top": top_functions(figures.profile)}
        ok = ratio >= RATIO_TARGET and not problems
        if ratio < RATIO_TARGET:
            cost = (1 / checked - 1 / raw) * 1000 if raw and checked else 0.0
            why = "; ".join(
                [
                    *problems,
                    f"a checked step costs {cost:.3f} ms more than a raw one ({1000 / raw:.3f} ms); under the "
                    f"profiler: {describe_breakdown(shares)}; the harness's own time is led by "
                    + _leaders(leaders),
                ]
            )
        title = "checked / raw (median of the rounds' ratios)"
        self.add(Measure("checked_ratio", title, ratio, "", f">= {RATIO_TARGET:.2f}", ok, why))
        self.details["cycle"] = {
            "steps": steps,
            "requests": figures.shown_requests,
            "frames_per_step": figures.frames,
            "steps_per_phase": figures.steps_per_phase,
            "rounds": len(figures.raw_rates),
            "raw_rates": [round(rate, 1) for rate in figures.raw_rates],
            "checked_rates": [round(rate, 1) for rate in figures.checked_rates],
            "ratios": [round(value, 3) for value in figures.ratios],
            "settle": 0,
            "fence": False,
        }

    # -- the suite ------------------------------------------------------------------------------------

    def suite_part(self) -> None:
        quick = " (quick: the call flows only)" if self.sizes.suite_args else ""
        opts = self.options
        runs = [
            time_suite(opts.url, opts.profile, opts.specs, SUITE_LIMIT, self.sizes.suite_args)
            for _ in range(self.sizes.suite_runs)
        ]
        runs.sort(key=lambda run: run.wall_seconds)
        timed = next((run for run in runs if run.exit_code != 0), runs[len(runs) // 2])  # a failed run first
        self.details["suite"] = {
            **_suite_json(timed),
            "runs_wall_seconds": [round(r.wall_seconds, 2) for r in runs],
        }
        why = []
        if timed.exit_code != 0:
            why.append(f"the suite exited {timed.exit_code} ({timed.failures} failed, {timed.errors} errors)")
        if timed.wall_seconds >= SUITE_TARGET:
            why.append(_suite_why(timed))
            why.append(self.profiled_suite())
        ok = timed.exit_code == 0 and timed.wall_seconds < SUITE_TARGET
        median = f", median of {len(runs)}" if len(runs) > 1 else ""
        title = f"conformance suite wall time ({self.profile.name}{median}){quick}"
        self.add(
            Measure("suite_seconds", title, timed.wall_seconds, "s", f"< {SUITE_TARGET:g} s", ok, "; ".join(why))
        )
        counts = f"{timed.passed} passed, {timed.failures + timed.errors} failed, {timed.skipped} skipped"
        self.add(
            Measure("suite_pytest_seconds", f"  pytest's own time ({counts})", timed.pytest_seconds, "s", "none")
        )
        if self.sizes.suite_breakdown:
            with tempfile.TemporaryDirectory(prefix="mbconform-bench-") as folder:
                settle_zero = _with_settle_zero(self.options.profile, Path(folder))
                quiet = time_suite(
                    self.options.url, settle_zero, self.options.specs, SUITE_LIMIT, self.sizes.suite_args
                )
            self.details["suite_settle_0"] = _suite_json(quiet)
            self.add(
                Measure(
                    "suite_settle0_seconds",
                    "  the same with the settle window at 0",
                    quiet.wall_seconds,
                    "s",
                    "none: what the quiet waits cost",
                )
            )
            empty = time_suite(opts.url, opts.profile, opts.specs, SUITE_LIMIT, ("-k", NO_TEST))
            self.details["suite_no_test"] = _suite_json(empty)
            self.add(
                Measure(
                    "suite_startup_seconds",
                    "  the same selecting no test (start-up, collection)",
                    empty.wall_seconds,
                    "s",
                    "none: the fixed cost",
                )
            )

    def broken_part(self) -> None:
        """The whole reference suite (its own embedded adapter) correct and with faults that block set-ups."""
        if not self.options.embedded:
            why = "needs the embedded reference adapter (bench with no URL): the faults are its own"
            self.add(
                Measure(
                    "reference_suite_broken_ratio", "reference suite: broken / correct", None, "", "-", why=why
                )
            )
            return
        measures, details = measure_broken(self.options.specs, SUITE_LIMIT, self.sizes.broken_args)
        for measure in measures:
            self.add(measure)
        self.details["reference_suite_broken"] = details

    def profiled_suite(self) -> str:
        """Run the suite once more under cProfile: where its time goes."""
        out = self.options.reports
        out.mkdir(parents=True, exist_ok=True)
        raw = out / "profile-suite.prof"
        opts = self.options
        time_suite(opts.url, opts.profile, opts.specs, SUITE_LIMIT, self.sizes.suite_args, profile_out=raw)
        if not raw.is_file():
            return "the profiled run wrote no profile"
        path = out / "profile-suite.txt"
        write_profile(str(raw), path, f"the conformance suite ({self.profile.name}) under cProfile")
        self.files["profile of the suite"] = str(path)
        shares = breakdown(str(raw))
        self.details["suite_profile"] = {"shares": shares, "top": top_functions(str(raw))}
        leaders = _leaders(own_time_leaders(str(raw), only="harness"))
        raw.unlink()
        return f"under the profiler: {describe_breakdown(shares)}; the harness's own time is led by {leaders}"

    # -- fuzzing --------------------------------------------------------------------------------------

    def fuzz_part(self) -> None:
        ci = load_fuzz_profile(suites_dir() / "fuzz" / "ci.yaml")
        settings = self.profile.settings()
        rates: list[FuzzRate] = []
        # a warm-up, not measured: the first run also pays for imports and Hypothesis' own start
        fuzz_rate(self.url, self.catalogue, settings, ci, examples=WARM_UP_EXAMPLES, fence=False)
        for fence in (True, False):
            rate = fuzz_rate(
                self.url, self.catalogue, settings, ci, examples=self.sizes.fuzz_examples, fence=fence
            )
            rates.append(rate)
        profiler = cProfile.Profile()
        profiled = fuzz_rate(
            self.url,
            self.catalogue,
            settings,
            ci,
            examples=self.sizes.profiled_examples,
            fence=True,
            profiler=profiler,
        )
        path = self.options.reports / "profile-fuzz.txt"
        write_profile(profiler, path, f"MB-FUZZ-FLOWS, ci profile (fence on), {profiled.examples} examples")
        self.files["profile of the fuzzer"] = str(path)
        self.details["fuzz_profile"] = {"shares": breakdown(profiler), "top": top_functions(profiler)}
        self.details["fuzz"] = [{**asdict(rate), "rate": round(rate.rate, 1)} for rate in rates]
        why_slow = _fuzz_why(profiler, profiled)
        for rate in rates:
            label = "on (ci profile)" if rate.fence else "off"
            problems = [
                text for text in (rate.error, f"a finding: {rate.finding}" if rate.finding else "") if text
            ]
            if rate.rate < FUZZ_TARGET:
                problems.append(why_slow)
            self.add(
                Measure(
                    f"fuzz_rate_fence_{'on' if rate.fence else 'off'}",
                    f"stateful fuzzing, fence {label}: {rate.steps} steps",
                    rate.rate if not rate.error else None,
                    "steps/s",
                    f">= {FUZZ_TARGET:,.0f} steps/s",
                    rate.rate >= FUZZ_TARGET and not rate.finding,
                    "; ".join(problems),
                )
            )

    # -- the flood ------------------------------------------------------------------------------------

    def flood_part(self) -> None:
        count = self.sizes.flood
        url = session_url(self.options.url, self.profile, [("fault", f"flood:{count}")])
        figures = measure_flood(
            url, count, self.options.profile, self.options.specs, self.options.cycle, self.profile.step_timeout
        )
        self.details["flood"] = {**asdict(figures), "growth_mib": figures.growth_mib}
        growth = figures.growth_mib
        why = figures.error
        if not why and growth is None:
            why = f"the harness received {figures.consumed:,} of {count:,} events ({figures.verdict}: "
            why += f"{figures.first_violation})"
        elif growth is not None and growth > FLAT_MIB:
            why = f"resident MiB at 10/50/100%: {_samples(figures.samples_mib)}"
        self.add(
            Measure(
                "flood_growth_mib",
                f"memory growth over a flood of {count:,} events (10% -> 100%)",
                None if growth is None else round(growth, 2),
                "MiB",
                f"<= {FLAT_MIB:g} MiB (flat)",
                growth is not None and growth <= FLAT_MIB,
                why,
                {"samples_mib": figures.samples_mib},
            )
        )
        consumed = figures.consumed >= count
        rate = count / figures.seconds if consumed and figures.seconds else 0
        for key, title, value, unit in (
            (
                "flood_peak_mib",
                f"  peak RSS (VmHWM) of the harness; RSS at 10/50/100%: {_samples(figures.samples_mib)} MiB",
                round(figures.peak_mib, 1),
                "MiB",
            ),
            (
                "flood_seconds",
                f"  time to consume the flood ({rate:,.0f} events/s)",
                round(figures.seconds, 2),
                "s",
            ),
        ):
            shown = value if consumed else None
            self.add(
                Measure(key, title, shown, unit, "none", why="" if consumed else "the flood was not consumed")
            )

    # -- many sessions --------------------------------------------------------------------------------

    def sessions_part(self) -> None:
        count = self.sizes.sessions
        self.details["file_descriptors"] = _enough_descriptors(count)
        paths = sorted((suites_dir() / "conformance").glob("*.yaml"))
        cases = [scenario_case(load_scenario(path, self.catalogue), self.profile) for path in paths]
        cases = [case for case in cases if case.applicable]
        extra = [("fault", self.options.session_fault)] if self.options.session_fault else []
        url = session_url(self.options.url, self.profile, extra)
        run: SessionsRun = asyncio.run(run_sessions(url, self.catalogue, self.profile, cases, count))
        self.details["sessions"] = run.to_json()
        why = "; ".join(run.not_passed[:3])
        self.add(
            Measure(
                "sessions_not_passed",
                f"{count} sessions at once ({len(cases)} call flows, peak {run.peak_open} open): not passed",
                run.failed,
                "",
                "0",
                run.failed == 0,
                f"{run.passed} passed; " + why if run.failed else "",
            )
        )
        isolation_why = ""
        if run.foreign_frames or run.shared_ids:
            isolation_why = f"{run.shared_ids} sessions shared an id; e.g. {'; '.join(run.foreign_examples)}"
        self.add(
            Measure(
                "sessions_foreign_frames",
                f"  frames about another session (of {run.frames:,})",
                run.foreign_frames + run.shared_ids,
                "",
                "0",
                run.foreign_frames == 0 and run.shared_ids == 0,
                isolation_why,
            )
        )
        self.add(Measure("sessions_seconds", "  wall time of the sessions", round(run.seconds, 2), "s", "none"))


def _leaders(rows: list[dict[str, Any]]) -> str:
    return ", ".join(f"{row['function']} ({row['where']}, {row['own_seconds']:.2f}s)" for row in rows[:3]) or "-"


def _samples(samples: dict[str, float]) -> str:
    return "/".join(f"{value:.1f}" for value in samples.values()) or "-"


def _suite_json(timed: SuiteTime) -> dict[str, Any]:
    return {**asdict(timed), "passed": timed.passed}


def _suite_why(timed: SuiteTime) -> str:
    pytest_time = timed.pytest_seconds or 0.0
    return (
        f"pytest runs the tests one after the other for {pytest_time:.1f}s of {timed.wall_seconds:.1f}s "
        f"({timed.tests} tests, {pytest_time / max(timed.tests, 1) * 1000:.0f} ms each)"
    )


def _fuzz_why(profiler: cProfile.Profile, profiled: FuzzRate) -> str:
    """Where a fuzz step's time goes, from the profiled run."""
    per_step = profiled.seconds / max(profiled.steps, 1) * 1000
    return (
        f"{per_step:.1f} ms a step under the profiler: {describe_breakdown(breakdown(profiler))}; the "
        f"harness's own time is led by {_leaders(own_time_leaders(profiler, only='harness'))}"
    )


def _with_settle_zero(profile: Path, folder: Path) -> Path:
    """A copy of the profile whose settle window is 0."""
    data = load_yaml_file(profile).data  # loaded as a profile before: within the input limits
    data.setdefault("timing", {})["settle"] = 0
    copy = folder / profile.name
    copy.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return copy


def _enough_descriptors(sessions: int) -> dict[str, Any]:
    """Raise the soft limit on open files if the sessions need more (two sockets each and some spare)."""
    needed = 2 * sessions + FD_SPARE
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    raised = False
    if soft != resource.RLIM_INFINITY and soft < needed:
        if hard != resource.RLIM_INFINITY and hard < needed:
            raise BenchError(f"{sessions} sessions need {needed} open files; the hard limit is {hard}")
        resource.setrlimit(resource.RLIMIT_NOFILE, (needed, hard))
        raised = True
    return {"needed": needed, "soft_limit": soft, "hard_limit": hard, "raised": raised}
