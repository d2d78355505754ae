"""A set-up step that failed is keyed by what it does and the situation it starts from, without ids (issue 16):
the same step from a session alike is known to have failed; from another situation, or on another kind of
object, it is tried."""

from __future__ import annotations

from harness.core.simulate import Platform
from harness.core.steps import Step
from harness.runner.setups import FailedSetups, SetupFailure
from harness.spec.catalogue import Catalogue

DIAL = Step("command", "channel.dial", "$channel", setup=True)


def started(catalogue: Catalogue, session: str) -> Platform:
    platform = Platform(catalogue)
    platform.startup([{}], session)
    platform.handle({"command": "channel.activate", "target": f"{session}.chan1", "data": {}})
    return platform


def test_the_same_step_from_a_session_alike_is_the_same_key_whatever_its_ids(catalogue: Catalogue) -> None:
    one, other = started(catalogue, "S1"), started(catalogue, "S7")
    key = FailedSetups.key(DIAL, "S1.chan1", one.model)
    assert key == FailedSetups.key(DIAL, "S7.chan1", other.model)
    failed = FailedSetups()
    failed.record(key, SetupFailure("MB-CONV-HOLD-001", "send channel.dial on S1.chan1", "missing event: ..."))
    failed.record(key, SetupFailure("MB-CONV-HOLD-002", "send channel.dial on S7.chan1", "missing event: ..."))
    known = failed.failed(FailedSetups.key(DIAL, "S7.chan1", other.model))
    assert known is not None and known.case == "MB-CONV-HOLD-001"  # the first case stays the one named
    assert len(failed) == 1


def test_another_situation_another_step_or_other_data_is_another_key(catalogue: Catalogue) -> None:
    platform = started(catalogue, "S1")
    key = FailedSetups.key(DIAL, "S1.chan1", platform.model)
    assert key != FailedSetups.key(Step("command", "channel.deactivate", "$channel"), "S1.chan1", platform.model)
    data = Step("command", "channel.dial", "$channel", {"destination": "2"}, setup=True)
    assert key != FailedSetups.key(data, "S1.chan1", platform.model)
    platform.handle({"command": "channel.dial", "target": "S1.chan1", "data": {"destination": "1"}})
    assert key != FailedSetups.key(DIAL, "S1.chan1", platform.model)  # a call exists now: another situation
