"""What the fuzzers need to weigh a finding as ``mbconform run`` does (issue 14): the catalogue says when its
prediction of a result is a guess (a channel whose media the adapter does not name), a request says which
platform data it carries once its ``$fact:`` names are replaced, and the fuzz report counts what warned."""

from __future__ import annotations

from harness.core.media import catalogue_media
from harness.core.simulate import Platform, channel_seeds
from harness.core.violations import Category, Severity, Verdict, Violation
from harness.fuzz.coverage import OTHER_KINDS, WARNING_KINDS, Coverage
from harness.spec.catalogue import Catalogue, facts_sent


def _dial(platform: Platform, channel: str) -> dict[str, object]:
    platform.handle({"command": "channel.activate", "target": channel, "data": {}})
    return {"command": "channel.dial", "target": channel, "data": {"destination": "+15550100"}}


def test_a_dial_on_a_channel_whose_media_the_adapter_does_not_name_is_a_guessed_success(
    catalogue: Catalogue,
) -> None:
    unnamed = Platform(catalogue)
    unnamed.model.guess_media = catalogue_media(catalogue)  # as a session's model does (not the reference's)
    unnamed.startup([{}], "S1")
    channel = unnamed.model.get("S1.chan1")
    assert channel is not None
    channel.media = None  # as the harness sees a channel created with its media elsewhere in its data
    decision = unnamed.decide(_dial(unnamed, "S1.chan1"))
    assert decision.result == "success" and decision.inferred is None  # its events are still the seeds'
    assert decision.guess is not None and "media of the channel" in decision.guess

    named = Platform(catalogue)
    named.startup(list(channel_seeds(catalogue, ["telephony", "chat"])), "S1")
    assert named.decide(_dial(named, "S1.chan1")).guess is None  # a telephony channel: the seeds decide
    refused = named.decide(_dial(named, "S1.chan2"))  # a chat channel, named as the catalogue reads it
    assert refused.result == "failure" and refused.refusal is not None


def test_platform_data_is_found_by_its_value_in_a_request_whose_facts_were_replaced(catalogue: Catalogue) -> None:
    facts = catalogue.platforms["generic"].facts
    unreachable = facts["unreachable_destination"]
    assert facts_sent({"destination": unreachable}, facts) == {"unreachable_destination"}
    assert facts_sent({"x": [{"y": {"destination": unreachable}}]}, facts) == {"unreachable_destination"}
    assert facts_sent({"destination": "+15550100"}, facts) == set()
    # a boolean, a zero or an empty string is no platform datum (recording_pause: true, chosen_disposition: 0)
    assert facts_sent({"a": True, "b": 0, "c": "", "d": False}, facts) == set()
    deep: object = {"destination": unreachable}
    for _ in range(20_000):  # deeper than the scan goes: bounded, no recursion
        deep = [deep]
    assert facts_sent(deep, facts) == set()


def test_the_fuzz_report_counts_warnings_by_kind_and_never_a_failure() -> None:
    coverage = Coverage()
    convention = Violation(Category.MISSING_EVENT, "missing event", "x", inferred="the catalogue's list")
    should = Violation(Category.WRONG_RESULT, "wrong result", "y", severity=Severity.SHOULD)
    must = Violation(Category.WRONG_RESULT, "wrong result", "z")
    assert convention.verdict is Verdict.WARN and must.verdict is Verdict.FAIL
    coverage.warned([convention, convention, should, must])
    assert coverage.warnings == {"[convention] missing event (missing event)": 2, "[wrong result] wrong result": 1}
    assert coverage.conventions == 2
    other = Coverage()
    other.warned(Violation(Category.MISSING_EVENT, f"m{n}", "x", inferred="i") for n in range(WARNING_KINDS + 5))
    assert len(other.warnings) == WARNING_KINDS + 1 and other.warnings[OTHER_KINDS] == 5
    coverage.merge(other)
    assert len(coverage.warnings) <= WARNING_KINDS + 1 and sum(coverage.warnings.values()) == 3 + WARNING_KINDS + 5
