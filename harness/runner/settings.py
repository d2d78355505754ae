"""What the runner needs to know about the IUT: timing, limits, and what it may be asked to do.

A profile (``suites/profiles``) produces these; the runner never reads profiles itself.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from ..core.conventions import Conventions
from ..core.redact import Redactor
from .stimuli import StimulusDriver
from .transport import Transport


@dataclass(frozen=True)
class Settings:
    step_timeout: float
    connect_timeout: float
    max_frame_bytes: int
    max_queue: int
    transcript_frames: int
    commands: frozenset[str]  # the commands the IUT declares
    stimuli: frozenset[str]  # the stimuli the harness can produce on it
    platform: str  # which platform's extensions and behaviour the IUT has (specs/platforms.yaml)
    facts: Mapping[str, Any] = field(default_factory=dict)  # how the IUT's platform is set up (overrides)
    stimulus: StimulusDriver = field(default_factory=StimulusDriver)  # how stimuli are produced
    addressing: str = "flat"  # "channelgroup": channels live in channel groups
    startup_send: tuple[Mapping[str, Any], ...] | None = None  # None: the catalogue's start-up requests
    ready_event: str | None = None  # None: the catalogue's ready event
    settle: float = 0.3  # seconds of quiet after a list marked settle ("and nothing more happens")
    transport: Transport = field(default_factory=Transport)  # TLS, handshake headers, subprotocols
    redactor: Redactor = field(default_factory=Redactor)  # what reports must not show (each session copies it)
    conventions: Conventions = field(default_factory=Conventions)  # the adapter's own names, activation (profile)
    # the areas of the catalogue's conventions the profile adopts as the adapter's own (violations.AREAS): a
    # deviation there is a MUST; elsewhere a convention is a warning; and the facts the profile sets itself
    adopted: frozenset[str] = frozenset()
    declared_facts: frozenset[str] = frozenset()
    media: tuple[str, ...] = ()  # the media of the IUT's channels (the profile's media:)
    # wait every step to its end even once what arrived makes its verdict certain (--wait-out: the harness
    # before issue 16, to compare verdicts and times)
    wait_out: bool = False
