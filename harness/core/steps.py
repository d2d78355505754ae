"""A step of a call flow: a command to send or a stimulus to produce, and what it must bring.

Scenario files, planned set-ups and fuzz reproducers are all lists of steps. A target is either a literal
address or ``$name``: an object bound by an earlier step (``bind``) or by the session start-up; a literal may
also contain ``${name}`` (``${call}.conv999``: an id that names nothing, inside a known object).

A *frame* step sends one frame as it is (``data["text"]``, or ``data["hex"]`` for a binary frame): the
fuzzer's malformed and invalid requests. What the adapter must do with it is decided from the catalogue,
not from how the frame was made.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from ..spec.catalogue import SpecRef

StepKind = Literal["command", "stimulus", "frame"]


@dataclass(frozen=True)
class Step:
    kind: StepKind
    name: str  # the command or stimulus
    target: str  # "$name" or a literal address
    data: Mapping[str, Any] | None = None  # None: the command's example from its spec
    expect: frozenset[str] | None = None  # the results the step accepts; None: what the catalogue predicts
    bind: Mapping[str, str] = field(default_factory=dict)  # flow variable -> the list entry's 'as' name
    title: str | None = None
    ref: SpecRef | None = None  # where the step is written (a scenario file line)
    setup: bool = False  # a step that only brings the IUT into the state the test needs

    def describe(self) -> str:
        if self.kind == "frame":
            return self.title or f"send a frame ({self.name})"
        verb = "stimulus" if self.kind == "stimulus" else "send"
        return self.title or f"{verb} {self.name} on {self.target}"
