"""The catalogue as one JSON object (``mbconform specs --json``), for tools and reviewers."""

from __future__ import annotations

from typing import Any

from .catalogue import Catalogue, SpecRef


def _source(ref: SpecRef) -> dict[str, Any]:
    return {
        "seed": ref.seed,
        "section": ref.section,
        "spec": f"{ref.file}:{ref.line}",
        "requirements": list(ref.requirements),
    }


def catalogue_json(catalogue: Catalogue) -> dict[str, Any]:
    commands = []
    for command in sorted(catalogue.commands.values(), key=lambda c: c.name):
        commands.append(
            {
                "name": command.name,
                "level": command.level,
                "platforms": sorted(command.platforms),
                "media": sorted(command.media),
                "request_required": sorted(command.request.document.get("required", [])),
                "results": sorted(command.results),
                "legal_in": sorted(command.when_states),
                "legal_when": [condition.describe() for condition in command.when],
                "events": [entry.event for entry in command.events.entries],
                "events_complete": command.events.complete,
                "provenance": command.provenance,
                "source": _source(command.ref),
                "outcomes": [
                    {
                        "name": outcome.name,
                        "when": outcome.when.describe(),
                        "result": outcome.result,
                        "events": [entry.event for entry in outcome.events.entries] if outcome.events else [],
                        "then": [follow.title for follow in outcome.then],
                    }
                    for outcome in command.outcomes
                ],
            }
        )
    events = [
        {
            "name": event.name,
            "levels": sorted(event.levels),
            "provenance": event.provenance,
            "creates": event.creates_level,
            "source": _source(event.ref),
        }
        for event in sorted(catalogue.events.values(), key=lambda e: e.name)
    ]
    stimuli = [
        {
            "name": stimulus.name,
            "level": stimulus.level,
            "events": [entry.event for entry in stimulus.events.entries],
            "provenance": stimulus.provenance,
        }
        for stimulus in sorted(catalogue.stimuli.values(), key=lambda s: s.name)
    ]
    levels = {
        name: {
            "states": list(level.states_in_order),
            "facets": {
                facet.name: list(facet.values) if facet.values is not None else f"a {facet.child} id"
                for facet in level.facets.values()
            },
        }
        for name, level in catalogue.levels.items()
    }
    platforms = {name: dict(platform.facts) for name, platform in catalogue.platforms.items()}
    return {
        "version": catalogue.version,
        "commands": commands,
        "events": events,
        "stimuli": stimuli,
        "levels": levels,
        "platforms": platforms,
    }
