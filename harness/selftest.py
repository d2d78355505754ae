"""``mbconform selftest``: the suite against the correct reference adapter and against each fault alone.

Every case of the suite (the generated command cases and the call flows of ``suites/conformance``) runs on
every reference profile against the correct adapter, which must pass them all; then again once per fault,
each in its own session with ``?fault=NAME`` (the profile's connection parameters besides), on the
profiles whose platform the fault exists on. A fault is *detected* when some case that passed without it
fails with it. The result is a matrix: per fault, detected or not, by which tests, with which categories
of violation.

All flows run in this process, concurrently (a bounded number at once), against one reference adapter in a
child process with test control on. Every flow has its deadlines, and each one a bound of its own besides,
so a run always ends. ``quick`` runs each fault only on the cases whose set-up plan or steps send a command
or stimulus the fault changes.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from .cases import TestCase, command_cases, scenario_case
from .core.results import FlowResult
from .core.steps import Step
from .core.violations import Category, Verdict, Violation
from .paths import suites_dir
from .reference.faults import FRAME_STEP, NAMED, Fault, UnknownFault, parse_fault
from .reference.process import AdapterStartError, start_reference
from .runner.deadline import Deadline, StepTimeout, within
from .runner.flow import run_flow
from .runner.settings import Settings
from .spec.catalogue import Catalogue
from .spec.loader import SpecError
from .suite import Profile, load_profile, load_scenario

CONCURRENCY = 32  # flows at once
STEP_TIMEOUT = 2.0  # seconds per step with a fault; the reference adapter answers on loopback in milliseconds
PLAN_STEPS = 8  # the most set-up steps a plan found at run time may have (core.plan.MAX_DEPTH and some)
FLOW_SLACK = 5.0  # seconds a flow may take beyond its steps' deadlines before it is cut off
SHOWN_TESTS = 4  # detecting tests named per fault in the printed matrix (all of them in the JSON)


@dataclass(frozen=True)
class Job:
    profile: Profile
    case: TestCase
    fault: Fault | None

    @property
    def test_id(self) -> str:
        return f"{self.case.id}[{self.profile.name}]"


@dataclass
class FaultRow:
    """One fault's line of the matrix."""

    fault: Fault
    profiles: tuple[str, ...]
    runs: int = 0
    skipped: int = 0  # quick mode: not run, the fault was already detected
    detected_by: list[str] = field(default_factory=list)  # test ids that failed with the fault only
    categories: Counter[str] = field(default_factory=Counter)  # of the MUST violations of those tests
    requirements: Counter[str] = field(default_factory=Counter)  # the requirement ids those violations cite
    verdicts: Counter[str] = field(default_factory=Counter)  # of all its runs
    # test ids that failed though their flow sends nothing the fault changes: a fault leaking out of its
    # owners, or a selection for --quick that would miss cases (should stay empty)
    strays: list[str] = field(default_factory=list)

    @property
    def detected(self) -> bool:
        return bool(self.detected_by)


@dataclass
class Matrix:
    profiles: list[str]
    quick: bool
    baseline_runs: int = 0
    baseline_problems: list[str] = field(default_factory=list)  # cases the correct adapter does not pass
    rows: list[FaultRow] = field(default_factory=list)
    seconds: float = 0.0
    catalogue: str = ""  # the version of the catalogue it ran (``mbconform requirements`` checks it)

    @property
    def undetected(self) -> list[str]:
        return [row.fault.name for row in self.rows if not row.detected]

    @property
    def ok(self) -> bool:
        return not self.baseline_problems and not self.undetected

    def render(self) -> str:
        mode = (
            "quick: per fault the cases that send what it changes, until one detects it" if self.quick else "full"
        )
        lines = [
            f"mbconform selftest ({mode}): {len(self.rows)} faults on {len(self.profiles)} reference profiles "
            f"({', '.join(self.profiles)})",
            f"correct adapter: {self.baseline_runs - len(self.baseline_problems)} of {self.baseline_runs} cases "
            "pass",
            *[f"  NOT PASSED {problem}" for problem in self.baseline_problems],
            "",
            f"{'fault':34} {'kind':30} {'steps':6} {'detected':8} {'runs':>5}  by / categories",
        ]
        for row in self.rows:
            steps = "multi" if row.fault.multistep else "single"
            head = f"{row.fault.name:34} {row.fault.kind or 'family':30} {steps:6}"
            if row.detected:
                shown = ", ".join(row.detected_by[:SHOWN_TESTS])
                more = len(row.detected_by) - SHOWN_TESTS
                tests = shown + (f" (+{more})" if more > 0 else "")
                lines.append(f"{head} {'yes':8} {row.runs:>5}  {tests}")
                lines.append(f"{'':88}[{', '.join(sorted(row.categories))}]")
            else:
                tally = ", ".join(f"{count} {verdict}" for verdict, count in sorted(row.verdicts.items()))
                lines.append(f"{head} {'NO':8} {row.runs:>5}  ({tally or 'no case ran'})")
            if row.strays:
                lines.append(f"{'':88}failed beyond what it changes: {', '.join(row.strays[:SHOWN_TESTS])}")
        detected = len(self.rows) - len(self.undetected)
        lines += [
            "",
            f"{detected} of {len(self.rows)} faults detected; the correct adapter "
            + (
                "passes every case"
                if not self.baseline_problems
                else f"does not pass {len(self.baseline_problems)}"
            )
            + f"; {self.seconds:.1f}s",
        ]
        return "\n".join(lines)

    def to_json(self) -> dict[str, Any]:
        return {
            "mode": "quick" if self.quick else "full",
            "profiles": self.profiles,
            "seconds": round(self.seconds, 2),
            "catalogue_version": self.catalogue,
            "baseline": {"runs": self.baseline_runs, "not_passed": self.baseline_problems},
            "faults": [
                {
                    "name": row.fault.name,
                    "description": row.fault.description,
                    "kind": row.fault.kind or "family",
                    "multistep": row.fault.multistep,
                    "platforms": sorted(row.fault.platforms),
                    "profiles": list(row.profiles),
                    "runs": row.runs,
                    "skipped": row.skipped,
                    "detected": row.detected,
                    "detected_by": row.detected_by,
                    "categories": dict(row.categories),
                    "requirements": dict(sorted(row.requirements.items())),
                    "verdicts": dict(row.verdicts),
                    "strays": row.strays,
                }
                for row in self.rows
            ],
            "ok": self.ok,
        }


def suite_cases(catalogue: Catalogue, profile: Profile, scenario_files: Sequence[Path]) -> list[TestCase]:
    """The applicable cases of the suite on one profile: generated command cases, then the call flows."""
    scenarios = [load_scenario(path, catalogue) for path in scenario_files]
    cases = command_cases(catalogue, profile) + [scenario_case(scenario, profile) for scenario in scenarios]
    return [case for case in cases if case.applicable]


def _names(steps: Sequence[Step]) -> frozenset[str]:
    """The commands and stimuli of the steps, and ``frame`` for raw frames (whatever made them)."""
    return frozenset(FRAME_STEP if step.kind == "frame" else step.name for step in steps)


def sent(case: TestCase) -> frozenset[str]:
    """The commands and stimuli a case's flow sends: its set-up plan and its steps."""
    plan = case.flow.plan.steps if case.flow.plan is not None else ()
    return _names((*plan, *case.flow.steps))


def touched_by(fault: Fault, case: TestCase) -> bool:
    names = fault.touches
    if names is None:
        return True
    if case.flow.goal is not None and case.flow.plan is None:
        return True  # planned at run time: what it sends is not known beforehand
    return bool(names & sent(case))


def _url(base: str, profile: Profile, fault: Fault | None) -> str:
    params = list(profile.connect_params.items())
    if fault is not None:
        params.append(("fault", fault.name))
    return f"{base}/?{urlencode(params)}" if params else base


def _bound(settings: Settings, case: TestCase) -> float:
    steps = len(case.flow.steps) + (len(case.flow.plan.steps) if case.flow.plan is not None else PLAN_STEPS)
    return settings.connect_timeout + settings.step_timeout * (steps + 1) + FLOW_SLACK


async def _run_job(job: Job, base_url: str, catalogue: Catalogue, settings: Settings) -> FlowResult:
    deadline = Deadline(_bound(settings, job.case), f"the flow of {job.test_id}")
    flow = run_flow(
        job.case.flow, url=_url(base_url, job.profile, job.fault), catalogue=catalogue, settings=settings
    )
    try:
        return await within(deadline, flow, lambda: "the flow overran the bound of its steps' deadlines")
    except StepTimeout as exc:
        result = FlowResult(reason=str(exc))
        result.add("selftest", [Violation(Category.HARNESS_FAULT, "flow overran", str(exc))])
        return result


@dataclass
class Runner:
    """Runs jobs, a bounded number at once; in quick mode a fault's remaining jobs are skipped once it is
    detected."""

    base_url: str
    catalogue: Catalogue
    step_timeout: float
    concurrency: int
    passed: set[str] = field(default_factory=set)  # test ids the correct adapter passes
    detected: set[str] = field(default_factory=set)  # faults some test detected so far

    def settings(self, job: Job) -> Settings:
        """The profile's settings; with a fault, the selftest's (shorter) step timeout: a fault that drops an
        event makes the step wait it out."""
        settings = job.profile.settings()
        return settings if job.fault is None else replace(settings, step_timeout=self.step_timeout)

    async def run(self, jobs: Sequence[Job], stop_when_detected: bool = False) -> list[FlowResult | None]:
        slots = asyncio.Semaphore(self.concurrency)
        settings = {(job.profile.name, job.fault is None): self.settings(job) for job in jobs}

        async def one(job: Job) -> FlowResult | None:
            async with slots:
                if stop_when_detected and job.fault is not None and job.fault.name in self.detected:
                    return None
                result = await _run_job(
                    job, self.base_url, self.catalogue, settings[job.profile.name, job.fault is None]
                )
            if job.fault is None and result.verdict == Verdict.PASS:
                self.passed.add(job.test_id)
            if job.fault is not None and result.verdict == Verdict.FAIL and job.test_id in self.passed:
                self.detected.add(job.fault.name)
            return result

        return list(await asyncio.gather(*(one(job) for job in jobs)))


def _rank(fault: Fault, case: TestCase) -> int:
    """Which of a fault's cases run first: those that send what the fault changes as a step under test."""
    names = fault.touches
    return 0 if names is None or names & _names(case.flow.steps) else 1


def plan_jobs(
    cases: dict[str, list[TestCase]], profiles: Sequence[Profile], faults: Sequence[Fault], quick: bool
) -> tuple[list[Job], list[Job]]:
    """The baseline (every case on every profile, no fault) and the fault runs: each fault's cases in the
    order of :func:`_rank`, the faults' first cases before anyone's second."""
    baseline = [Job(profile, case, None) for profile in profiles for case in cases[profile.name]]
    per_fault = [
        sorted(
            (
                Job(profile, case, fault)
                for profile in profiles
                if fault.applies_on(profile.platform)
                for case in cases[profile.name]
                if not quick or touched_by(fault, case)
            ),
            key=lambda job: _rank(fault, job.case),
        )
        for fault in faults
    ]
    faulty = [
        jobs[index]
        for index in range(max(map(len, per_fault), default=0))
        for jobs in per_fault
        if index < len(jobs)
    ]
    return baseline, faulty


def build_matrix(
    profiles: Sequence[Profile],
    faults: Sequence[Fault],
    quick: bool,
    baseline: Sequence[tuple[Job, FlowResult | None]],
    faulty: Sequence[tuple[Job, FlowResult | None]],
) -> Matrix:
    matrix = Matrix([profile.name for profile in profiles], quick, baseline_runs=len(baseline))
    passed = set()
    for job, result in baseline:
        if result is not None and result.verdict == Verdict.PASS:
            passed.add(job.test_id)
        elif result is not None:
            first = next((str(v) for _, v in result.violations), result.reason)
            matrix.baseline_problems.append(f"{job.test_id}: {result.verdict.name.lower()}: {first}")
    rows = {
        fault.name: FaultRow(fault, tuple(p.name for p in profiles if fault.applies_on(p.platform)))
        for fault in faults
    }
    for job, result in faulty:
        assert job.fault is not None
        row = rows[job.fault.name]
        if result is None:
            row.skipped += 1
            continue
        row.runs += 1
        row.verdicts[result.verdict.name.lower()] += 1
        if result.verdict >= Verdict.FAIL and not touched_by(job.fault, job.case):
            row.strays.append(job.test_id)
        if result.verdict == Verdict.FAIL and job.test_id in passed:
            row.detected_by.append(job.test_id)
            row.categories.update({v.category.value for _, v in result.violations if v.verdict == Verdict.FAIL})
            row.requirements.update(
                {rid for _, v in result.violations if v.verdict == Verdict.FAIL for rid in v.requirements}
            )
    matrix.rows = list(rows.values())
    return matrix


async def run_matrix(
    catalogue: Catalogue,
    profiles: Sequence[Profile],
    scenario_files: Sequence[Path],
    faults: Sequence[Fault],
    base_url: str,
    *,
    quick: bool = False,
    step_timeout: float = STEP_TIMEOUT,
    concurrency: int = CONCURRENCY,
) -> Matrix:
    """Run the baseline, then the faults, against the adapter at ``base_url`` (test control on)."""
    started = time.monotonic()
    cases = {profile.name: suite_cases(catalogue, profile, scenario_files) for profile in profiles}
    baseline, faulty = plan_jobs(cases, profiles, faults, quick)
    runner = Runner(base_url, catalogue, step_timeout, concurrency)
    clean = await runner.run(baseline)
    results = await runner.run(faulty, stop_when_detected=quick)
    matrix = build_matrix(
        profiles, faults, quick, list(zip(baseline, clean, strict=True)), list(zip(faulty, results, strict=True))
    )
    matrix.seconds = time.monotonic() - started
    matrix.catalogue = catalogue.version
    return matrix


def selftest(
    catalogue: Catalogue,
    profile_paths: Sequence[Path],
    scenario_files: Sequence[Path],
    fault_names: Sequence[str] = (),
    *,
    quick: bool = False,
    specs: Path | None = None,
    step_timeout: float = STEP_TIMEOUT,
    concurrency: int = CONCURRENCY,
) -> Matrix:
    """Start the reference adapter, run the matrix, stop it. ``fault_names``: default every named fault.

    Raises :class:`~harness.reference.faults.UnknownFault`, :class:`~harness.spec.loader.SpecError` (a bad
    profile or scenario) and :class:`~harness.reference.process.AdapterStartError` before any flow runs."""
    faults = [parse_fault(name, catalogue) for name in fault_names] if fault_names else list(NAMED.values())
    profiles = [load_profile(path, catalogue) for path in profile_paths]
    extra = ["--test-control", "--lab-http", *([f"--specs={specs}"] if specs is not None else [])]
    with start_reference(extra) as adapter:
        return asyncio.run(
            run_matrix(
                catalogue,
                profiles,
                scenario_files,
                faults,
                adapter.url,
                quick=quick,
                step_timeout=step_timeout,
                concurrency=concurrency,
            )
        )


def run_cli(
    catalogue: Catalogue,
    profile_paths: Sequence[Path],
    fault_names: Sequence[str],
    *,
    quick: bool,
    json_path: Path | None,
    specs: Path | None,
    step_timeout: float | None,
    concurrency: int | None,
) -> int:
    """``mbconform selftest``: 0 if the correct adapter passes everything and every fault is detected, 1 if
    not, 2 if it could not run."""
    if (step_timeout is not None and step_timeout <= 0) or (concurrency is not None and concurrency < 1):
        print("mbconform selftest: --step-timeout must be positive and --concurrency at least 1", file=sys.stderr)
        return 2
    scenario_files = sorted((suites_dir() / "conformance").glob("*.yaml"))
    try:
        matrix = selftest(
            catalogue,
            profile_paths,
            scenario_files,
            fault_names,
            quick=quick,
            specs=specs,
            step_timeout=step_timeout or STEP_TIMEOUT,
            concurrency=concurrency or CONCURRENCY,
        )
    except (UnknownFault, SpecError, AdapterStartError) as exc:
        print(f"mbconform selftest: {exc}", file=sys.stderr)
        return 2
    print(matrix.render())
    if json_path is not None:
        write_json(matrix, json_path)
        print(f"matrix written to {json_path}")
    return 0 if matrix.ok else 1


def write_json(matrix: Matrix, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(matrix.to_json(), indent=2) + "\n", encoding="utf-8")
