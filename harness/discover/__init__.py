"""``mbconform discover URL``: connect to an adapter, observe its conventions, and write a draft profile.

:mod:`.drive` runs the sessions (the runner's own session, set-up planner and deadlines), :mod:`.observe`
learns from their frames (sans I/O, from the catalogue), :mod:`.draft` writes the YAML a vendor reviews.
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from ..core.redact import Redactor, header_secrets, url_secrets
from ..core.shown import printable
from ..runner.settings import Settings
from ..runner.transport import INSECURE_WARNING, Transport
from ..spec.catalogue import Catalogue
from ..spec.loader import SpecError
from ..spec.yamlfile import load_yaml_file
from .draft import CONVENTIONS_MARK, DIFFERS, write_draft
from .drive import Discovery, discover
from .observe import shown

__all__ = ["CONVENTIONS_MARK", "DIFFERS", "Discovery", "discover", "run_cli", "write_draft"]

DEFAULT_OUT = Path("mbconform-draft.yaml")
DEFAULT_TIMEOUT = 5.0  # seconds per step without a base profile


def default_settings(catalogue: Catalogue, url: str, connection: Transport) -> Settings:
    """What discovery assumes without a base profile: the default platform, all its commands, no stimuli."""
    platform = catalogue.default_platform
    commands = frozenset(name for name, spec in catalogue.commands.items() if platform in spec.platforms)
    facts = dict(catalogue.platforms[platform].facts) if platform in catalogue.platforms else {}
    return Settings(
        step_timeout=DEFAULT_TIMEOUT,
        connect_timeout=DEFAULT_TIMEOUT,
        max_frame_bytes=1 << 20,
        max_queue=64,
        transcript_frames=5000,
        commands=commands,
        stimuli=frozenset(),
        platform=platform,
        facts=facts,
        transport=connection,
        redactor=Redactor(header_secrets(connection.headers) + url_secrets(url)),
    )


def run_cli(
    url: str,
    profile_path: Path | None,
    out: Path | None,
    budget: float,
    catalogue: Catalogue,
    connection: Transport | None = None,
) -> int:
    """Exit 0 when a draft was written, 3 when the adapter could not be started up with, 2 on bad input."""
    from ..suite import load_profile

    connection = connection or Transport()
    base: dict[str, Any] | None = None
    if profile_path is not None:
        try:
            profile = load_profile(profile_path, catalogue)
        except SpecError as exc:
            print(f"mbconform discover: {exc}", file=sys.stderr)
            return 2
        data = load_yaml_file(profile_path).data
        base = data if isinstance(data, dict) else {}
        if profile.connect_params:
            url += ("&" if "?" in url else "?") + urlencode(dict(profile.connect_params))
        settings = profile.settings(connection, url)
    else:
        settings = default_settings(catalogue, url, connection)
    if settings.transport.insecure and url.lower().startswith("wss://"):
        print(INSECURE_WARNING, file=sys.stderr, flush=True)
    commands = sorted(settings.commands)
    print(
        f"mbconform discover {settings.redactor.url(url)}: {len(commands)} commands, budget {budget:g}s",
        flush=True,
    )
    found = asyncio.run(discover(url, catalogue, settings, commands, budget))
    target = out or DEFAULT_OUT
    text = redacted_comments(write_draft(found, catalogue, base), settings.redactor)
    try:
        target.write_text(text, encoding="utf-8")
    except OSError as exc:
        print(f"mbconform discover: cannot write {target}: {exc}", file=sys.stderr)
        return 2
    for line in summary(found):
        print(printable(settings.redactor.text(line)), flush=True)  # adapter names: redacted, then escaped
    print(f"  draft: {target} (review it, then: mbconform lint {target}; mbconform run URL --profile {target})")
    return 0 if found.ready else 3  # its session start-up failed (cmdline/exits.py)


def redacted_comments(draft: str, redactor: Redactor) -> str:
    """The draft with a secret hidden, in any spelling, wherever it quotes the adapter: its comments (evidence,
    notes, details). Its settings stay as written: those copied from the base profile must still work."""
    lines = []
    for line in draft.split("\n"):
        setting, mark, comment = line.partition("#")
        comment_only = not setting.strip() or setting.endswith("  ")  # a comment line, or a setting's comment
        lines.append(setting + mark + redactor.text(comment) if mark and comment_only else line)
    return "\n".join(lines)


def summary(found: Discovery) -> list[str]:
    """What discovery saw, in a few lines for the console."""
    observer = found.observer
    if not found.ready:
        return [f"  start-up: no ready event: {found.startup_problem}"]
    addressing = found.settings.addressing
    media = ", ".join(dict.fromkeys(c.media or "(none)" for c in found.channels)) or "none"
    lines = [
        f"  start-up: {len(observer.startup_frames)} frames; {len(found.channels)} channels, "
        f"addressing {addressing}, media {media}",
        f"  extra events: {', '.join(shown(name, 80) for name in observer.extra_events) or 'none'}",
    ]
    by_status: dict[str, list[str]] = {}
    for outcome in found.commands.values():
        by_status.setdefault(outcome.status, []).append(outcome.command)
    for status, names in sorted(by_status.items()):
        lines.append(
            f"  commands {status}: {len(names)}" + (f" ({', '.join(names)})" if status != "works" else "")
        )
    for mapping in observer.mappings.values():
        lines.append(
            f"  state: {mapping.level} {shown(mapping.adapter, 80)} is the catalogue's {mapping.catalogue}?"
        )
    for (event, about), seen in observer.creation.items():
        lines.append(f"  creation: {event} about the {about} ({seen.count} seen)")
    if observer.areas:
        lines.append(f"  conventions that differ, by area: {', '.join(sorted(observer.areas))}")
    if found.budget_spent:
        lines.append("  the budget ran out: some commands were not tried (--budget)")
    return lines
