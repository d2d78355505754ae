"""Run the fuzzers under Hypothesis with a fuzz profile (``suites/fuzz/*.yaml``: ci, nightly).

``ci`` is derandomized and bounded: the same examples on every run, no example database. ``nightly`` runs
random search in rounds until its budget ends, keeping Hypothesis' example database in a folder, so a
finding is tried again first on the next night (and on every machine that shares the folder). There is no
Hypothesis deadline: against a networked adapter the profile's step timeout bounds every wait instead.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, Phase, Verbosity, settings
from hypothesis.database import DirectoryBasedExampleDatabase
from hypothesis.errors import Flaky, Unsatisfiable
from hypothesis.stateful import run_state_machine_as_test

from ..runner.settings import Settings
from ..spec.catalogue import Catalogue
from ..spec.loader import SpecError
from ..spec.yamlfile import load_yaml_file
from . import FUZZ_FORMAT
from .coverage import Coverage
from .machine import Finding, FlowRecord, FuzzTarget, build_machine
from .progress import Progress

KINDS = ("messages", "flows")


@dataclass(frozen=True)
class FuzzProfile:
    """How hard and how reproducibly to fuzz (``suites/fuzz/<name>.yaml``)."""

    name: str
    file: str
    derandomize: bool
    budget: float  # seconds for the whole run (nightly: rounds until it ends; ci: an upper bound)
    examples: dict[str, int]  # kind -> examples per round
    steps: dict[str, int]  # kind -> most steps per example
    database: str | None = None  # a folder for Hypothesis' example database (nightly)
    workers: int = 1
    require_commands: bool = False  # every declared command must be reached (a CI gate on coverage)
    require_states: tuple[str, ...] = ()  # levels whose every state must be reached
    settle: float | None = None  # the settle window while fuzzing (None: the adapter profile's)
    shrink_seconds: float = 300.0  # how long Hypothesis may shrink one finding
    # the longest wait of a step while fuzzing, if shorter than the adapter profile's: a missing event costs
    # one wait per example that shows it, and shrinking tries many (None: the adapter profile's)
    step_timeout: float | None = None
    # after each step, wait for the answer to a request the catalogue refuses: what a step brings no longer
    # depends on timing (for an adapter that handles requests in order), so a derandomized run repeats itself
    fence: bool = False


def load_fuzz_profile(path: Path) -> FuzzProfile:
    loaded = load_yaml_file(path, str(path))
    if loaded.problems:
        raise SpecError(list(loaded.problems))
    data = loaded.data
    problems = []
    if not isinstance(data, dict) or data.get("format") != FUZZ_FORMAT:
        problems.append(loaded.problem((), f"not a fuzz profile: expected format: {FUZZ_FORMAT}"))
        raise SpecError(problems)
    examples: dict[str, int] = {}
    steps: dict[str, int] = {}
    for kind in KINDS:
        node = data.get(kind, {})
        if not isinstance(node, dict):
            problems.append(loaded.problem((kind,), "expected a mapping with examples and steps"))
            continue
        for key, store in (("examples", examples), ("steps", steps)):
            value = node.get(key, 1)
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                problems.append(loaded.problem((kind, key), f"{key} must be a whole number of at least 1"))
            else:
                store[kind] = value
    budget = data.get("budget", 60)
    if not isinstance(budget, int | float) or isinstance(budget, bool) or budget <= 0:
        problems.append(loaded.problem(("budget",), "budget must be a positive number of seconds"))
    unknown = sorted(
        set(data)
        - {
            "format",
            "name",
            "description",
            "derandomize",
            "budget",
            "database",
            "workers",
            "require",
            "settle",
            "shrink_seconds",
            "step_timeout",
            "fence",
            *KINDS,
        }
    )
    problems.extend(loaded.problem((key,), f"unknown key {key!r}") for key in unknown)
    require = data.get("require", {})
    shrink = data.get("shrink_seconds", 300)
    if not isinstance(shrink, int | float) or isinstance(shrink, bool) or shrink <= 0:
        problems.append(loaded.problem(("shrink_seconds",), "shrink_seconds must be a positive number"))
    settle = data.get("settle")
    if settle is not None and (not isinstance(settle, int | float) or isinstance(settle, bool) or settle < 0):
        problems.append(loaded.problem(("settle",), "settle must be a number of seconds (0: no window)"))
    step_timeout = data.get("step_timeout")
    if step_timeout is not None and (
        not isinstance(step_timeout, int | float) or isinstance(step_timeout, bool) or step_timeout <= 0
    ):
        problems.append(loaded.problem(("step_timeout",), "step_timeout must be a positive number of seconds"))
    fence = data.get("fence", False)
    if not isinstance(fence, bool):
        problems.append(loaded.problem(("fence",), "fence must be true or false"))
    if problems:
        raise SpecError(problems)
    return FuzzProfile(
        name=str(data.get("name", path.stem)),
        file=loaded.file,
        derandomize=bool(data.get("derandomize", False)),
        budget=float(budget),
        examples=examples,
        steps=steps,
        database=data.get("database"),
        workers=int(data.get("workers", 1)),
        require_commands=bool(require.get("every_command", False)),
        require_states=tuple(require.get("every_state_of", ())),
        settle=float(settle) if settle is not None else None,
        shrink_seconds=float(shrink),
        step_timeout=float(step_timeout) if step_timeout is not None else None,
        fence=fence,
    )


@contextlib.contextmanager
def _shrinking_for(seconds: float) -> Iterator[None]:
    """Bound the time Hypothesis shrinks one finding. Against a networked adapter every shrink step is a new
    session, so Hypothesis' own bound (five minutes) is too long for a CI gate. Hypothesis has no setting for
    it: this sets its engine's module constant for the duration of the run."""
    from hypothesis.internal.conjecture import engine

    before = engine.MAX_SHRINKING_SECONDS
    engine.MAX_SHRINKING_SECONDS = seconds  # type: ignore[assignment]
    try:
        yield
    finally:
        engine.MAX_SHRINKING_SECONDS = before


@dataclass
class FuzzOutcome:
    kind: str
    finding: FlowRecord | None = None
    shrunk_from: int = 0
    coverage: Coverage = field(default_factory=Coverage)
    seconds: float = 0.0
    rounds: int = 0
    inconclusive: int = 0
    error: str = ""  # the fuzzer itself could not run (cannot connect); never a finding
    flaky: str = ""  # Hypothesis could not reproduce the failure while shrinking: the adapter is not deterministic
    cut: str = ""  # the budget ended a derandomized round before its last example (how many ran)


def fuzz(
    kind: str,
    url: str,
    catalogue: Catalogue,
    adapter_settings: Settings,
    profile: FuzzProfile,
    *,
    budget: float | None = None,
    database: Path | None = None,
    progress: Progress | None = None,
) -> FuzzOutcome:
    """Fuzz one adapter session kind until a finding, the examples of the (last) round or the budget end."""
    outcome = FuzzOutcome(kind)
    started = time.monotonic()
    end = started + (budget if budget is not None else profile.budget)
    db: Any = None
    if database is not None:
        database.mkdir(parents=True, exist_ok=True)
        db = DirectoryBasedExampleDatabase(str(database))
    rounds_left = 1 if profile.derandomize else None
    if profile.settle is not None:  # the next step's checks see a late event; a window per step is slow
        adapter_settings = replace(adapter_settings, settle=profile.settle)
    if profile.step_timeout is not None:
        timeout = min(adapter_settings.step_timeout, profile.step_timeout)
        adapter_settings = replace(adapter_settings, step_timeout=timeout)
    with asyncio.Runner() as runner, _shrinking_for(profile.shrink_seconds):
        # the budget is an upper bound: no example starts after it (a derandomized round runs the same examples
        # in the same order on every run, so a cut one ran the first of them, and says how many)
        target = FuzzTarget(
            url, catalogue, adapter_settings, runner, fence=profile.fence, stop_at=end, progress=progress
        )
        if progress is not None:
            progress.start()
        machine = build_machine(target, kind)
        while rounds_left is None or rounds_left > 0:
            outcome.rounds += 1
            options = settings(
                max_examples=profile.examples[kind],
                stateful_step_count=profile.steps[kind],
                deadline=None,
                derandomize=profile.derandomize,
                database=db,
                suppress_health_check=list(HealthCheck),
                phases=(Phase.explicit, Phase.reuse, Phase.generate, Phase.shrink),
                report_multiple_bugs=False,
                print_blob=False,
                verbosity=Verbosity.quiet,  # a finding is reported as a reproducer file, not as Python
            )
            try:
                run_state_machine_as_test(machine, settings=options)
            except Finding:
                outcome.finding = target.finding()[0]
            except Flaky as exc:
                outcome.finding = target.finding()[0]
                outcome.flaky = str(exc).splitlines()[0][:300]
            except ConnectionError as exc:
                outcome.error = str(exc)
            except Unsatisfiable:  # the budget ended before this round's first example: nothing more to run
                pass
            except BaseException as exc:  # Hypothesis wraps several findings, or the harness broke
                if target.last_failure is not None and isinstance(exc, AssertionError | ExceptionGroup):
                    outcome.finding = target.finding()[0]
                else:
                    raise
            if outcome.finding is not None or outcome.error:
                break
            if rounds_left is not None:
                rounds_left -= 1
            if time.monotonic() >= end:
                break
    planned, ran = profile.examples[kind], target.coverage.examples
    if profile.derandomize and outcome.finding is None and not outcome.error and ran < planned:
        outcome.cut = (
            f"the {end - started:g}s budget ended the round after {ran} of its {planned} examples (the first "
            "ones, in the same order on every run)"
        )
    outcome.shrunk_from = target.finding()[1]
    outcome.coverage = target.coverage
    outcome.seconds = time.monotonic() - started
    outcome.inconclusive = target.inconclusive
    if progress is not None:
        progress.done(target.coverage, int(outcome.finding is not None))
    return outcome
