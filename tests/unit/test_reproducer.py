"""Reproducers: a fuzz finding written as a scenario file loads back as the same steps, frames name the
objects by flow variable, and a replay is compared with the recorded finding."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.core.results import FlowResult, StepResult
from harness.core.steps import Step
from harness.core.violations import Category, Violation
from harness.fuzz.frames import Frame
from harness.fuzz.machine import FlowRecord, finding_class, frame_step
from harness.fuzz.reproducer import compare, write_reproducer
from harness.fuzz.run import load_fuzz_profile
from harness.paths import suites_dir
from harness.spec.catalogue import Catalogue
from harness.spec.loader import SpecError
from harness.suite import load_scenario

MISSING = Violation(Category.MISSING_EVENT, "missing event", "conversation.hold: state.updated did not arrive")


def _record() -> FlowRecord:
    names = {"S7.chan1": "channel", "S7.chan1.intr1": "interaction1", "S7.chan1.intr1.conv2": "conversation1"}
    steps = [
        Step("command", "channel.activate", "$channel", data={}, expect=frozenset({"success"})),
        Step(
            "stimulus",
            "call.inbound",
            "$channel",
            expect=frozenset({"success"}),
            bind={"interaction1": "interaction", "conversation1": "conversation"},
        ),
        frame_step(
            Frame('{"command":"x","target":"S7.chan1.intr1.conv2","data":{"d":"S7.chan10"}}', None, "t"), names
        ),
        frame_step(Frame(None, b"\x00\xff", "binary: random bytes"), names),
        Step("command", "conversation.hold", "${conversation1}.conv999", data={}, expect=frozenset({"failure"})),
        Step("command", "channel.dial", "$channel", data={"destination": 5}, expect=frozenset({"failure"})),
        Step("command", "conversation.hold", "$conversation1", data={}, expect=frozenset({"success"})),
    ]
    finding = finding_class(MISSING)(len(steps), "send conversation.hold on $conversation1", MISSING)
    return FlowRecord(steps=steps, finding=finding)


def test_frames_name_addresses_by_flow_variable_and_only_whole_addresses() -> None:
    step = _record().steps[2]
    assert step.data == {"text": '{"command":"x","target":"${conversation1}","data":{"d":"S7.chan10"}}'}


def test_a_reproducer_loads_back_as_the_same_steps(tmp_path: Path, catalogue: Catalogue) -> None:
    record = _record()
    path = write_reproducer(
        tmp_path,
        record,
        level="conversation",
        profile="reference-generic",
        platform="generic",
        adapter={"fault": ["f"]},
        by="test",
    )
    assert path.name.startswith("MB-FUZZ-") and path.read_text(encoding="utf-8").startswith("# A minimal")
    scenario = load_scenario(path, catalogue)
    assert [(s.kind, s.name, s.target, s.expect) for s in scenario.steps if s.kind != "frame"] == [
        (s.kind, s.name, s.target, s.expect) for s in record.steps if s.kind != "frame"
    ]
    assert [s.data for s in scenario.steps] == [s.data for s in record.steps]
    assert scenario.found is not None
    assert scenario.found["step"] == 7 and scenario.found["adapter"] == {"fault": ["f"]}
    assert scenario.steps[1].bind == {"interaction1": "interaction", "conversation1": "conversation"}
    again = write_reproducer(
        tmp_path,
        record,
        level="conversation",
        profile="reference-generic",
        platform="generic",
        adapter={"fault": ["f"]},
        by="test",
    )
    assert again == path  # the same finding, the same file


def test_compare_says_whether_the_recorded_violation_came_back() -> None:
    found = {"step": 2, "category": MISSING.category.value, "title": MISSING.title}
    first, second = StepResult(Step("command", "a", "$x"), "x"), StepResult(Step("command", "b", "$x"), "x")
    second.violations.append(MISSING)
    result = FlowResult(steps=[first, second])
    result.add("b", [MISSING])
    assert compare(found, result).reproduced
    other = Violation(Category.WRONG_RESULT, "wrong result", "expected success, got failure")
    second.violations[:] = [other]
    replayed = compare(found, FlowResult(steps=[first, second], violations=[("b", other)], verdict=other.verdict))
    assert not replayed.reproduced and replayed.failed and "another" in replayed.summary
    passed = compare(found, FlowResult(steps=[first]))
    assert not passed.reproduced and not passed.failed and "not reproduced" in passed.summary


def test_the_shipped_fuzz_profiles_load_and_bad_ones_say_where(tmp_path: Path) -> None:
    ci = load_fuzz_profile(suites_dir() / "fuzz" / "ci.yaml")
    assert ci.derandomize and ci.require_commands and ci.require_states == ("interaction", "conversation")
    nightly = load_fuzz_profile(suites_dir() / "fuzz" / "nightly.yaml")
    assert not nightly.derandomize and nightly.database and nightly.workers >= 2
    bad = tmp_path / "bad.yaml"
    bad.write_text("format: mbconform/fuzz/1\nbudget: -1\nflows: {examples: 0}\nspeed: 3\n", encoding="utf-8")
    with pytest.raises(SpecError) as error:
        load_fuzz_profile(bad)
    text = str(error.value)
    assert "bad.yaml:2" in text and "budget" in text
    assert "bad.yaml:3" in text and "examples" in text
    assert "bad.yaml:4" in text and "speed" in text


def test_a_reproducer_records_the_session_options_of_the_url_but_never_its_credentials(
    catalogue: Catalogue,
) -> None:
    """A reproducer is a file to commit: the fault a session asked for goes in, an access token does not."""
    from types import SimpleNamespace

    from harness.paths import default_profile
    from harness.plugin.fuzz_items import FuzzItem
    from harness.suite import load_profile

    item = SimpleNamespace(
        profile=load_profile(default_profile(), catalogue),
        config=SimpleNamespace(getoption=lambda name: ["fault=flood:10"]),
    )
    url = "ws://127.0.0.1:9/?fault=hold-without-state&access_token=T0K3N&api_key=K3Y"
    options = FuzzItem._adapter_options(item, url)  # type: ignore[arg-type]
    assert options == {"fault": ["hold-without-state", "flood:10"]}
