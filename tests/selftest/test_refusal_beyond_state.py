"""Refusal cases beyond the state (2NN): a command refused in a legal state because another clause of its
precondition fails. The alternate-unconnected fault (alternate succeeds while the consult call still dials) is
caught by them and by no older case; a command that skips its precondition fails every one where the
seeds print the refusal, and only warns where the refusal is the catalogue's reading; the correct reference
adapter passes them (the whole suite's baseline, test_fault_matrix, runs them on every reference profile)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from harness.cases import BEYOND_STATE_CASES, CATALOGUE_READING, TestCase, command_cases
from harness.core.results import FlowResult
from harness.core.violations import Category, Verdict
from harness.reference.process import RunningAdapter, start_reference
from harness.runner.flow import run_flow
from harness.spec.catalogue import Catalogue
from harness.suite import load_profile

pytestmark = pytest.mark.selftest

FAST_PROFILE = Path(__file__).parent / "fast-profile.yaml"
RUN_SECONDS = 600  # a guard against a hang, never a speed target
CONCURRENT_SESSIONS = 8


@pytest.fixture(scope="module")
def control_adapter() -> Iterator[RunningAdapter]:
    with start_reference(["--test-control"]) as adapter:
        yield adapter


@pytest.fixture(scope="module")
def cases(catalogue: Catalogue) -> list[TestCase]:
    return command_cases(catalogue, load_profile(FAST_PROFILE, catalogue))


def _beyond(cases: list[TestCase]) -> list[TestCase]:
    return [case for case in cases if case.applicable and case.id[-3] == "2"]


def _run(
    adapter: RunningAdapter, catalogue: Catalogue, runs: list[tuple[str, TestCase]], adopt: bool = True
) -> list[FlowResult]:
    """Run (fault, case) pairs; ``adopt``: the profile adopts every convention of the catalogue (else none)."""
    settings = load_profile(FAST_PROFILE, catalogue).settings()
    if not adopt:
        settings = replace(settings, adopted=frozenset())

    async def run_one(fault: str, case: TestCase, slots: asyncio.Semaphore) -> FlowResult:
        async with slots:
            url = f"{adapter.url}/?fault={fault}" if fault else adapter.url
            return await run_flow(case.flow, url=url, catalogue=catalogue, settings=settings)

    async def run_all() -> list[FlowResult]:
        slots = asyncio.Semaphore(CONCURRENT_SESSIONS)
        return await asyncio.gather(*(run_one(fault, case, slots) for fault, case in runs))

    return asyncio.run(asyncio.wait_for(run_all(), RUN_SECONDS))


def test_beyond_state_cases_exist_for_the_seed_refusals_with_counts_bounded_and_titled(
    catalogue: Catalogue, cases: list[TestCase]
) -> None:
    beyond = _beyond(cases)
    features = {case.feature for case in beyond}
    counted = {
        name
        for name, command in catalogue.commands.items()
        if any(c.count or c.facets or c.parent is not None for c in command.when)
    }
    assert "interaction.alternate" in features and features <= counted
    for feature in features:
        ids = [case.id for case in beyond if case.feature == feature]
        assert 1 <= len(ids) <= BEYOND_STATE_CASES and len(set(ids)) == len(ids)
    titles = {case.title for case in beyond if case.feature == "interaction.alternate"}
    # the consult call still dialing, the original call held: the connected-call clause fails
    assert any("1 DIALING and 1 HELD" in title and "in CONNECTED" in title for title in titles), titles
    assert all(case.flow.plan is not None for case in beyond)
    # stable: the same list on the next computation
    again = _beyond(command_cases(catalogue, load_profile(FAST_PROFILE, catalogue)))
    assert [(c.id, c.title) for c in again] == [(c.id, c.title) for c in beyond]


def test_alternate_unconnected_is_caught_by_a_beyond_state_case_and_by_no_older_case(
    catalogue: Catalogue, cases: list[TestCase], control_adapter: RunningAdapter
) -> None:
    alternate = [c for c in cases if c.applicable and c.feature == "interaction.alternate"]
    runs = [("alternate-unconnected", case) for case in alternate] + [("", case) for case in alternate]
    results = _run(control_adapter, catalogue, runs)
    faulty, correct = results[: len(alternate)], results[len(alternate) :]
    assert [r.verdict for r in correct] == [Verdict.PASS] * len(alternate)
    failed = {case.id for case, result in zip(alternate, faulty, strict=True) if result.verdict == Verdict.FAIL}
    beyond = {case.id for case in _beyond(alternate)}
    assert failed and failed <= beyond  # no older case (001, 002, 003, 1NN, 3NN) catches it
    [dialing] = [c for c in alternate if c.id in beyond and "1 DIALING and 1 HELD" in c.title]
    assert dialing.id in failed
    for case, result in zip(alternate, faulty, strict=True):
        if case.id in failed:
            must = [v for _, v in result.violations if v.verdict == Verdict.FAIL]
            assert any(v.category is Category.WRONG_RESULT for v in must), case.id


def test_a_command_that_skips_its_precondition_fails_each_seed_case_and_warns_on_each_inferred_one(
    catalogue: Catalogue, cases: list[TestCase], control_adapter: RunningAdapter
) -> None:
    """A refusal the seeds print (``refusal: seed`` on every alternative) is a MUST; one they do not (a
    recording that is not running, the consult call beside a blind transfer) is a convention: a warning for
    a profile that did not adopt the catalogue's conventions, a failure for one that did."""
    beyond = _beyond(cases)
    seeded = {name for name, command in catalogue.commands.items() if all(c.refusal_seed for c in command.when)}
    counted = {name for name, command in catalogue.commands.items() if any(c.count for c in command.when)}
    runs = [(f"any-state:{case.feature}", case) for case in beyond]
    runs += [(f"any-count:{case.feature}", case) for case in beyond if case.feature in counted & seeded]
    features = {case.feature for _, case in runs}
    assert features & seeded and features - seeded
    assert any(c.title.endswith(f"({CATALOGUE_READING})") for c in beyond if c.feature in seeded)  # consult
    wrong = []
    for adopt in (False, True):
        for (fault, case), result in zip(runs, _run(control_adapter, catalogue, runs, adopt), strict=True):
            # the seeds' own condition may be weaker than the catalogue's (refusal: {seed: ...}): the case says so
            printed = case.feature in seeded and not case.title.endswith(f"({CATALOGUE_READING})")
            expected = Verdict.FAIL if adopt or printed else Verdict.WARN
            category = Category.CONVENTION if expected == Verdict.WARN else Category.WRONG_RESULT
            if result.verdict != expected or not any(v.category is category for _, v in result.violations):
                wrong.append(
                    f"{case.id} with {fault} (adopt: {adopt}): {result.verdict.name}, not {expected.name}"
                )
    assert not wrong
