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

    def drops(self, owner: str, event: str) -> bool:
        return self.drop is not None and self.drop == (owner, event)


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


class UnknownFault(ValueError):
    pass


def parse_fault(text: str, catalogue: Catalogue) -> Fault:
    """A named fault, or ``drop-event:<command>:<event>`` for any list entry of the catalogue."""
    if text in NAMED:
        return NAMED[text]
    parts = text.split(":")
    if len(parts) == 3 and parts[0] == "drop-event":
        owner, event = parts[1], parts[2]
        spec = catalogue.commands.get(owner) or catalogue.stimuli.get(owner)
        if spec is None:
            raise UnknownFault(f"--fault {text}: {owner!r} is no command or stimulus of the catalogue")
        if event not in {entry.event for entry in spec.events.entries}:
            raise UnknownFault(f"--fault {text}: {owner}'s event list has no {event!r}")
        return Fault(text, f"{owner} never sends {event}", drop=(owner, event))
    known = ", ".join(sorted(NAMED))
    raise UnknownFault(f"--fault {text}: unknown fault (known: {known}; or drop-event:<command>:<event>)")
