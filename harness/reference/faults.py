"""Deliberate faults for the reference adapter, so the harness can prove which bugs it catches.

A fault is data about how the adapter deviates from the catalogue; the adapter consults it where it
answers and emits. ``drop-event:<command>:<event>`` works for any command and event in the catalogue.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..spec.catalogue import Catalogue


@dataclass(frozen=True)
class Fault:
    name: str
    description: str
    drop: tuple[str, str] | None = None  # (command or stimulus, event): this event is never sent
    lenient: tuple[str, frozenset[str]] | None = None  # (command, checks it skips: "state", "data")
    strip: tuple[str, str] | None = None  # (command, member): its responses lack this member (a dotted path)

    def drops(self, owner: str, event: str) -> bool:
        return self.drop is not None and self.drop == (owner, event)

    def strips(self, command: str) -> str | None:
        return self.strip[1] if self.strip is not None and self.strip[0] == command else None

    def skips(self, command: str) -> frozenset[str]:
        return self.lenient[1] if self.lenient is not None and self.lenient[0] == command else frozenset()


NAMED: dict[str, Fault] = {
    fault.name: fault
    for fault in (
        Fault(
            "dial-without-preview",
            "channel.dial never sends interaction.preview (a platform that skips the preview on outbound calls)",
            drop=("channel.dial", "interaction.preview"),
        ),
        Fault(
            "hold-without-state",
            "conversation.hold answers success but never sends the conversation's state.updated",
            drop=("conversation.hold", "state.updated"),
        ),
    )
}


LENIENT = {
    "any-state": ("state", "succeeds in every state, also where its precondition forbids it"),
    "no-data-check": ("data", "accepts request data its schema rejects"),
}
FAMILIES = {
    "drop-event:<command>:<event>": "the command never sends that secondary event",
    "any-state:<command>": LENIENT["any-state"][1],
    "no-data-check:<command>": LENIENT["no-data-check"][1],
    "strip-response:<command>:<member>": "the command's responses lack that member (original, uiExtension.skills)",
}


class UnknownFault(ValueError):
    pass


def parse_fault(text: str, catalogue: Catalogue) -> Fault:
    """A named fault, or ``drop-event:<command>:<event>`` for any list entry of the catalogue."""
    if text in NAMED:
        return NAMED[text]
    parts = text.split(":")
    if len(parts) == 2 and parts[0] in LENIENT:
        command = parts[1]
        if command not in catalogue.commands:
            raise UnknownFault(f"--fault {text}: {command!r} is no command of the catalogue")
        check, description = LENIENT[parts[0]]
        return Fault(text, f"{command} {description}", lenient=(command, frozenset({check})))
    if len(parts) == 3 and parts[0] == "strip-response":
        command, member = parts[1], parts[2]
        if command not in catalogue.commands:
            raise UnknownFault(f"--fault {text}: {command!r} is no command of the catalogue")
        return Fault(text, f"{command} answers without {member!r}", strip=(command, member))
    if len(parts) == 3 and parts[0] == "drop-event":
        owner, event = parts[1], parts[2]
        spec = catalogue.commands.get(owner) or catalogue.stimuli.get(owner)
        if spec is None:
            raise UnknownFault(f"--fault {text}: {owner!r} is no command or stimulus of the catalogue")
        if event not in {entry.event for entry in spec.events.entries}:
            raise UnknownFault(f"--fault {text}: {owner}'s event list has no {event!r}")
        return Fault(text, f"{owner} never sends {event}", drop=(owner, event))
    known = ", ".join(sorted(NAMED))
    raise UnknownFault(f"--fault {text}: unknown fault (known: {known}; or {', '.join(FAMILIES)})")
