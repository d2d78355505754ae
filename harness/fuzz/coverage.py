"""What a fuzz run exercised: commands (by result), stimuli, frames, events, and the state model's states and
transitions per level. Reported in the console and in Allure; a CI profile can require that every command
and every state of some levels was reached.

Everything it compares against (which commands, states and transitions exist) comes from the catalogue.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from ..core.violations import Category, Verdict, Violation
from ..spec.catalogue import Catalogue

CONVENTION = Category.CONVENTION.value
WARNING_KINDS = 100  # kinds of warning counted one by one; the rest are counted together
OTHER_KINDS = "(other kinds)"


@dataclass
class Coverage:
    commands: Counter[tuple[str, str]] = field(default_factory=Counter)  # (command, result) -> count
    stimuli: Counter[str] = field(default_factory=Counter)
    frames: Counter[str] = field(default_factory=Counter)  # how a frame was made -> count
    events: Counter[str] = field(default_factory=Counter)
    states: dict[str, Counter[str]] = field(default_factory=dict)  # level -> state -> count
    transitions: dict[str, Counter[tuple[str, str]]] = field(default_factory=dict)  # level -> (from, to)
    # what warned and is no finding (a SHOULD, a convention the profile does not declare): "[category] title
    # (the kind of check)" -> how many violations (texts aside: they may quote the adapter's secrets)
    warnings: Counter[str] = field(default_factory=Counter)
    steps: int = 0
    examples: int = 0

    def warned(self, violations: Iterable[Violation]) -> None:
        """Count a step's violations that warn: the same weighing as ``mbconform run`` made them warnings."""
        for violation in violations:
            if violation.verdict is not Verdict.WARN:
                continue
            key = f"[{violation.category.value}] {violation.title}"
            if violation.kind is not None:
                key += f" ({violation.kind.value})"
            if key not in self.warnings and len(self.warnings) >= WARNING_KINDS:
                key = OTHER_KINDS
            self.warnings[key] += 1

    @property
    def conventions(self) -> int:
        return sum(n for key, n in self.warnings.items() if key.startswith(f"[{CONVENTION}]"))

    def state(self, level: str, state: str) -> None:
        self.states.setdefault(level, Counter())[state] += 1

    def transition(self, level: str, before: str, after: str) -> None:
        self.transitions.setdefault(level, Counter())[(before, after)] += 1

    def merge(self, other: Coverage) -> None:
        self.commands.update(other.commands)
        self.stimuli.update(other.stimuli)
        self.frames.update(other.frames)
        self.events.update(other.events)
        for level, states in other.states.items():
            self.states.setdefault(level, Counter()).update(states)
        for level, moves in other.transitions.items():
            self.transitions.setdefault(level, Counter()).update(moves)
        for key, count in other.warnings.items():
            if key not in self.warnings and len(self.warnings) >= WARNING_KINDS:
                key = OTHER_KINDS
            self.warnings[key] += count
        self.steps += other.steps
        self.examples += other.examples

    def command_names(self) -> set[str]:
        return {command for command, _ in self.commands}

    def missing(
        self, catalogue: Catalogue, commands: Iterable[str], state_levels: Iterable[str] = ()
    ) -> list[str]:
        """What of ``commands`` and of the states of ``state_levels`` this run never reached."""
        gaps = [f"command {name}" for name in sorted(set(commands) - self.command_names())]
        for level in state_levels:
            seen = self.states.get(level, Counter())
            gaps.extend(
                f"{level} state {state}" for state in catalogue.levels[level].states_in_order if not seen[state]
            )
        return gaps

    def lines(self, catalogue: Catalogue, commands: Iterable[str]) -> list[str]:
        """The console's coverage table: per command its results, then states, transitions and events."""
        declared = sorted(set(commands))
        reached = self.command_names()
        lines = [
            f"coverage: {self.examples} examples, {self.steps} steps; "
            f"commands {len(reached & set(declared))}/{len(declared)}"
        ]
        for name in declared:
            results = ", ".join(f"{r} {n}" for (c, r), n in sorted(self.commands.items()) if c == name)
            lines.append(f"  {name:44} {results or 'never sent'}")
        if self.stimuli:
            lines.append("  stimuli: " + ", ".join(f"{name} {n}" for name, n in sorted(self.stimuli.items())))
        for level, spec in catalogue.levels.items():
            if not spec.states_in_order:
                continue
            seen = self.states.get(level, Counter())
            shown = ", ".join(f"{s}{'' if seen[s] else ' (never)'}" for s in spec.states_in_order)
            moves = self.transitions.get(level, Counter())
            possible = sum(len(targets) for targets in spec.transitions.values()) if spec.transitions else 0
            lines.append(f"  {level} states: {shown}; transitions {len(moves)}/{possible or '?'}")
        if self.events:
            lines.append(f"  events: {len(self.events)}/{len(catalogue.events)} kinds")
        if self.frames:
            lines.append(
                f"  malformed and invalid frames: {sum(self.frames.values())} of {len(self.frames)} kinds"
            )
        if self.warnings:
            lines.append(
                f"  warnings (no findings): {sum(self.warnings.values())}, of them {self.conventions} conventions "
                "the profile does not declare"
            )
            lines.extend(f"    {n:6} {key}" for key, n in self.warnings.most_common(10))
        return lines

    def as_json(self) -> dict[str, Any]:
        def pairs(counter: Mapping[tuple[str, str], int]) -> list[dict[str, Any]]:
            return [{"from": a, "to": b, "count": n} for (a, b), n in sorted(counter.items())]

        commands: dict[str, dict[str, int]] = {}
        for (command, result), count in sorted(self.commands.items()):
            commands.setdefault(command, {})[result] = count
        return {
            "examples": self.examples,
            "steps": self.steps,
            "commands": commands,
            "stimuli": dict(sorted(self.stimuli.items())),
            "frames": dict(sorted(self.frames.items())),
            "events": dict(sorted(self.events.items())),
            "states": {level: dict(sorted(states.items())) for level, states in sorted(self.states.items())},
            "transitions": {level: pairs(moves) for level, moves in sorted(self.transitions.items())},
            "warnings": dict(sorted(self.warnings.items())),
        }
