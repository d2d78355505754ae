"""The certificate: a verdict per declared capability, from the cases that ran; the rest not applicable."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from harness.cases import TestCase, command_cases, scenario_case
from harness.paths import project_root
from harness.plugin.summary import RunSummary
from harness.reporting.certificate import (
    Capability,
    CaseOutcome,
    Certificate,
    ProfileCertificate,
    _profile_markdown,
    certify_profile,
    write_certificate,
)
from harness.spec.catalogue import Catalogue
from harness.suite import Profile, load_profile, load_scenario

ROOT = project_root()
DECLARED = ("channel.activate", "interaction.accept", "conversation.hold", "conversation.retrieve")
URL = "ws://127.0.0.1:9/mediabar"


@pytest.fixture(scope="module")
def small(tmp_path_factory: pytest.TempPathFactory, catalogue: Catalogue) -> tuple[Profile, list[TestCase]]:
    """A profile that declares four commands and one stimulus, with its cases and the hold/retrieve flow."""
    text = (ROOT / "suites/profiles/reference-generic.yaml").read_text()
    text = text.replace("commands: all", f"commands: [{', '.join(DECLARED)}]")
    text = text.replace("name: reference-generic", "name: small")
    text = text.replace(
        "available: [call.inbound, chat.inbound, remote.answered, remote.hangup]", "available: [call.inbound]"
    )
    path = tmp_path_factory.mktemp("profile") / "small.yaml"
    path.write_text(text)
    profile = load_profile(path, catalogue)
    scenario = load_scenario(ROOT / "suites/conformance/inbound-call-hold-retrieve.yaml", catalogue)
    return profile, [*command_cases(catalogue, profile), scenario_case(scenario, profile)]


def all_pass(cases: list[TestCase]) -> dict[str, CaseOutcome]:
    return {case.id: CaseOutcome("pass", {"call.inbound": "pass"}) for case in cases if case.applicable}


def by_name(certificate: ProfileCertificate) -> dict[str, Capability]:
    return {capability.name: capability for capability in certificate.capabilities}


def test_every_declared_capability_passes_so_the_profile_is_certified(
    catalogue: Catalogue, small: tuple[Profile, list[TestCase]]
) -> None:
    profile, cases = small
    certificate = certify_profile(catalogue, profile, URL, cases, all_pass(cases))
    found = by_name(certificate)
    assert {name for name, c in found.items() if c.kind == "command" and c.declared} == set(DECLARED)
    assert found["call.inbound"].verdict == "pass" and found["MB-FLOW-HOLD-001"].verdict == "pass"
    assert certificate.certified
    assert certificate.overall().startswith("certified (6 declared capabilities: 6 pass; ")


def test_a_command_takes_the_worst_verdict_of_its_cases_and_lists_the_cases_behind_it(
    catalogue: Catalogue, small: tuple[Profile, list[TestCase]]
) -> None:
    profile, cases = small
    outcomes = all_pass(cases)
    outcomes["MB-CONV-HOLD-001"] = CaseOutcome("fail", {"call.inbound": "pass"}, "no state.updated")
    outcomes["MB-CONV-HOLD-002"] = CaseOutcome("warn")
    outcomes["MB-CONV-RETRIEVE-001"] = CaseOutcome("inconclusive", {"call.inbound": "fail"})
    certificate = certify_profile(catalogue, profile, URL, cases, outcomes)
    found = by_name(certificate)
    assert found["conversation.hold"].verdict == "fail"
    assert found["conversation.hold"].behind == (("MB-CONV-HOLD-001", "fail"), ("MB-CONV-HOLD-002", "warn"))
    assert found["conversation.retrieve"].verdict == "inconclusive"
    # A stimulus is judged by the steps that produced it, a set-up's too.
    assert found["call.inbound"].verdict == "fail"
    assert found["call.inbound"].behind == (("MB-CONV-RETRIEVE-001", "fail"),)
    assert not certificate.certified
    assert certificate.overall().startswith("not certified: 2 capabilities fail")


def test_what_the_profile_does_not_declare_is_not_applicable_with_the_reason(
    catalogue: Catalogue, small: tuple[Profile, list[TestCase]]
) -> None:
    profile, cases = small
    found = by_name(certify_profile(catalogue, profile, URL, cases, all_pass(cases)))
    assert found["channel.dial"].verdict == "not applicable"
    assert found["channel.dial"].reason == "the profile small does not declare channel.dial"
    assert found["remote.hangup"].reason == "the profile small cannot produce it"
    assert found["channel.request.incontact.getscripts"].reason.startswith(
        "channel.request.incontact.getscripts exists only on incontact"
    )


def test_a_partial_run_is_not_certified_and_says_what_was_not_run(
    catalogue: Catalogue, small: tuple[Profile, list[TestCase]]
) -> None:
    profile, cases = small
    outcomes = {k: v for k, v in all_pass(cases).items() if not k.startswith("MB-CONV-RETRIEVE")}
    certificate = certify_profile(catalogue, profile, URL, cases, outcomes)
    retrieve = by_name(certificate)["conversation.retrieve"]
    assert retrieve.verdict == "not run" and retrieve.reason == "no case of this run exercised it"
    assert not certificate.certified
    assert "a partial run, 1 declared capabilities not run" in certificate.overall()


def test_the_certificate_is_written_as_markdown_and_json_with_one_section_per_profile(
    tmp_path: Path, catalogue: Catalogue, small: tuple[Profile, list[TestCase]]
) -> None:
    profile, cases = small
    outcomes = all_pass(cases)
    outcomes["MB-CONV-HOLD-001"] = CaseOutcome("fail")
    failing = certify_profile(catalogue, profile, URL, cases, outcomes)
    passing = certify_profile(catalogue, profile, URL + "?platform=generic", cases, all_pass(cases))
    certificate = Certificate(URL, "0.1.0", catalogue.version, "2025-01-01T00:00:00+00:00", (failing, passing))
    as_json, as_markdown = write_certificate(tmp_path, certificate)
    data = json.loads(as_json.read_text())
    assert data["certified"] is False and [p["certified"] for p in data["profiles"]] == [False, True]
    assert {"adapter_url", "harness_version", "catalogue_version", "date"} <= set(data)
    first = data["profiles"][0]
    assert (first["name"], first["platform"]) == ("small", "generic") and first["file"].endswith("small.yaml")
    hold = next(c for c in first["commands"] if c["name"] == "conversation.hold")
    assert hold["verdict"] == "fail" and hold["not_passing"] == [{"case": "MB-CONV-HOLD-001", "verdict": "fail"}]
    assert {c["name"] for c in first["stimuli"]} == set(catalogue.stimuli)
    markdown = as_markdown.read_text()
    assert markdown.count("## Profile `small`") == 2
    assert "| `conversation.hold` | **fail** |" in markdown and "`MB-CONV-HOLD-001` (fail)" in markdown
    assert "| command `channel.dial` | the profile small does not declare channel.dial |" in markdown
    assert f"| spec catalogue | `{catalogue.version}` |" in markdown


def test_the_run_summary_keeps_a_small_record_per_test(small: tuple[Profile, list[TestCase]]) -> None:
    from harness.core.results import FlowResult
    from harness.core.violations import Category, Verdict, Violation

    _, cases = small
    case = next(c for c in cases if c.id == "MB-CONV-HOLD-001")
    result = FlowResult()
    result.add("hold", [Violation(Category.MISSING_EVENT, "missing event", "state.updated did not arrive\nmore")])
    result.transcript = "x" * 100_000
    summary = RunSummary()
    summary.record(case, "small", result.verdict, test_id="MB-CONV-HOLD-001[small]", result=result)
    skipped = next(c for c in cases if not c.applicable)
    summary.record(skipped, "small", Verdict.PASS, skipped=True, test_id=f"{skipped.id}[small]")
    record = summary.records["MB-CONV-HOLD-001[small]"]
    assert (record.verdict, record.categories, record.reason) == (
        "fail",
        ("missing event",),
        "state.updated did not arrive",
    )
    assert summary.verdicts()[f"{skipped.id}[small]"].verdict == "not applicable"
    assert summary.outcomes("small")["MB-CONV-HOLD-001"].verdict == "fail"
    assert summary.failing_tests == 1


def test_the_conventions_the_adapter_differs_in_are_listed_with_their_cases_and_coverage_is_said(
    catalogue: Catalogue, small: tuple[Profile, list[TestCase]]
) -> None:
    profile, cases = small
    outcomes = all_pass(cases)
    warned = [case.id for case in cases if case.applicable][:2]
    for case_id in warned:
        outcomes[case_id] = CaseOutcome("warn", {}, "", ("missing event: the state after accept (R11)",))
    certificate = certify_profile(catalogue, profile, URL, cases, outcomes)
    assert certificate.certified  # a convention is a warning, never a failure
    assert certificate.conventions == {"missing event: the state after accept (R11)": tuple(sorted(warned))}
    text = "\n".join(_profile_markdown(certificate))
    assert "Conventions the adapter differs in" in text and f"`{warned[0]}`" in text
    applied = sum(case.applicable for case in cases)
    assert certificate.cases == (applied, len(cases))
    assert f"{applied} of {len(cases)} cases of the suite apply" in text
    assert ("most do not" in text) == (applied * 2 < len(cases))
    assert certificate.to_json()["conventions"][0]["cases"] == sorted(warned)
