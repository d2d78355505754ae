"""Set-up steps that failed in this run (issue 16): a set-up is not retried blindly.

Within a run (one process: with pytest-xdist, one worker), when a set-up step fails for a case, a later case
whose set-up needs the same step from the same situation is *inconclusive* at once, naming the case where it
failed and its violation, instead of waiting again for what did not come. The same step: its kind, name and
data, and which object it acts on by its kind of situation (``plan.anchor``); the same situation: every
object's level, state, facets, media and children (``plan.situation``), so a step from another situation is
tried. Whichever case runs first is the one named; the verdicts are the same in any order, since only a step
that failed is skipped, for a case that would need it. ``--retry-setups`` turns this off.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from ..core.objects import ObjectModel
from ..core.plan import anchor, situation
from ..core.steps import Step


@dataclass(frozen=True)
class SetupFailure:
    case: str  # the test where the set-up step failed
    step: str  # that step, as its report names it
    violation: str  # its first failure: title and message


class FailedSetups:
    """The set-up steps that failed in this run, each by the step and the situation it was run from."""

    def __init__(self) -> None:
        self._failed: dict[str, SetupFailure] = {}

    @staticmethod
    def key(step: Step, target: str, model: ObjectModel) -> str:
        """The step (kind, name, data, which object) and the situation it starts from, without ids."""
        data = json.dumps(step.data, sort_keys=True, default=str)
        return repr((step.kind, step.name, data, anchor(model, target), situation(model)))

    def failed(self, key: str) -> SetupFailure | None:
        return self._failed.get(key)

    def record(self, key: str, failure: SetupFailure) -> None:
        self._failed.setdefault(key, failure)  # the first case where it failed stays the one named

    def __len__(self) -> int:
        return len(self._failed)
