"""What the runner needs to know about the IUT: timing, limits, and what it may be asked to do.

A profile (``suites/profiles``) produces these; the runner never reads profiles itself.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Settings:
    step_timeout: float
    connect_timeout: float
    max_frame_bytes: int
    max_queue: int
    transcript_frames: int
    stimulus_driver: str  # "in-band" or "none"
    commands: frozenset[str]  # the commands the IUT declares
    stimuli: frozenset[str]  # the stimuli the harness can produce on it
    platform: str  # which platform's extensions and behaviour the IUT has (specs/platforms.yaml)
    facts: Mapping[str, Any] = field(default_factory=dict)  # how the IUT's platform is set up (overrides)
