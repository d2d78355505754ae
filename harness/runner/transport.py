"""How the harness reaches the adapter: TLS for ``wss://``, handshake headers, subprotocols and redirects.

Secure by default: a ``wss://`` URL is verified against the system's certificate authorities (or the CA bundle
given); ``insecure`` turns verification off and says so. A handshake that fails is explained in one line that
names the cause (a certificate that does not verify, an HTTP status the adapter answered with) and what to
do about it, so a test ends with verdict error and a message, never a traceback.

The handshake does not leave the address the user gave: a redirect (HTTP 3xx with a Location) is an error
that says where it pointed, unless the profile says ``connection.follow_redirects: true``; even then the
handshake headers (credentials) are never sent to another origin (scheme, host or port), and TLS is never
downgraded. Whatever the adapter put in a status line or a Location is shown cut and escaped.
"""

from __future__ import annotations

import functools
import ssl
from collections.abc import Iterable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any
from urllib.parse import urljoin, urlsplit

from websockets.asyncio.client import connect
from websockets.exceptions import InvalidHandshake, InvalidStatus, InvalidURI

INSECURE_WARNING = "mbconform: WARNING: --insecure: the adapter's TLS certificate is not verified"
SHOWN_CHARS = 200  # of an adapter's status line or redirect target in a message


class TransportError(ValueError):
    """A connection option is unusable (a header without a colon, a CA bundle that cannot be read)."""


@dataclass(frozen=True)
class Transport:
    ca_bundle: str | None = None  # PEM file of the CAs to trust for wss:// (None: the system's)
    insecure: bool = False  # wss:// without certificate verification
    headers: tuple[tuple[str, str], ...] = ()  # sent with the WebSocket handshake (authentication)
    subprotocols: tuple[str, ...] = ()  # offered in the handshake (Sec-WebSocket-Protocol)
    follow_redirects: bool = False  # follow a handshake's redirect (never with the headers to another origin)

    def overridden(self, cli: Transport) -> Transport:
        """The command line's options (``cli``) over these (the profile's): a CA bundle or ``insecure``
        replaces the profile's choice, a header the profile's header of that name, subprotocols its list."""
        names = {name.lower() for name, _ in cli.headers}
        return replace(
            self,
            ca_bundle=cli.ca_bundle if cli.ca_bundle is not None else (None if cli.insecure else self.ca_bundle),
            insecure=cli.insecure or (self.insecure and cli.ca_bundle is None),
            headers=tuple((n, v) for n, v in self.headers if n.lower() not in names) + cli.headers,
            subprotocols=cli.subprotocols or self.subprotocols,
            follow_redirects=cli.follow_redirects or self.follow_redirects,
        )

    def ssl_context(self, url: str) -> ssl.SSLContext | None:
        """The TLS context for a ``wss://`` URL (None for ``ws://``)."""
        if not url.lower().startswith("wss://"):
            return None
        return _context(self.ca_bundle, self.insecure)


class RedirectRefused(InvalidHandshake):
    """The adapter answered the handshake with a redirect, and following it was not asked for."""

    def __init__(self, status: int, location: str) -> None:
        super().__init__(status, location)
        self.status = status
        self.location = location

    def __str__(self) -> str:
        return (
            f"the adapter answered the WebSocket handshake with HTTP {self.status}, a redirect to "
            f"{quoted(self.location)}, which is not followed: give that address instead, or set "
            "connection.follow_redirects: true in the profile (the handshake headers are never sent to another "
            "origin)"
        )


def _origin(url: str) -> tuple[str, str, int | None]:
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    try:
        port = parts.port or {"ws": 80, "wss": 443}.get(scheme)
    except ValueError:
        port = None
    return scheme, (parts.hostname or "").lower(), port


class Handshake(connect):
    """websockets' ``connect`` that follows a redirect only when ``follow`` is set, and then never takes the
    handshake headers to another origin than the address given (websockets itself strips only
    ``Authorization`` and cookies)."""

    follow = False

    def __init__(self, uri: str, **kwargs: Any) -> None:
        super().__init__(uri, **kwargs)
        self.origin = _origin(uri)

    def process_redirect(self, exc: Exception) -> Exception | str:
        if isinstance(exc, InvalidStatus) and 300 <= exc.response.status_code < 400 and not self.follow:
            location = exc.response.headers.get("Location")
            if location is not None:  # refused before websockets reads it (an http:// target raises there)
                return RedirectRefused(exc.response.status_code, urljoin(self.uri, location))
        try:
            target = super().process_redirect(exc)
        except InvalidURI as bad:  # a redirect to something that is no WebSocket address
            return bad
        if not isinstance(target, str):
            return target
        if _origin(target) != self.origin:
            self.additional_headers = None  # once another origin, no credential goes anywhere again
        return target


def quoted(text: str) -> str:
    """An adapter's text in a message: cut to ``SHOWN_CHARS`` and escaped (quotes, control characters shown as
    escapes, never sent to a terminal)."""
    cut = text[:SHOWN_CHARS]
    return repr(cut) + (f"… ({len(text)} chars)" if len(text) > SHOWN_CHARS else "")


@functools.lru_cache(maxsize=8)
def _context(ca_bundle: str | None, insecure: bool) -> ssl.SSLContext:
    if insecure:
        context = ssl.create_default_context()
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
        return context
    try:
        return ssl.create_default_context(cafile=ca_bundle)
    except (OSError, ssl.SSLError) as exc:
        raise TransportError(f"CA bundle {ca_bundle}: cannot be used ({exc})") from exc


def check_ca_bundle(path: str) -> str:
    """The path if it is a readable PEM bundle; else :class:`TransportError` naming what is wrong."""
    file = Path(path)
    if not file.is_file():
        raise TransportError(f"CA bundle {path}: no such file")
    try:
        ssl.create_default_context(cafile=path)
    except (OSError, ssl.SSLError) as exc:
        raise TransportError(f"CA bundle {path}: not a PEM file of certificates ({exc})") from exc
    return path


def parse_header(text: str) -> tuple[str, str]:
    """``"Name: value"`` as (name, value)."""
    name, colon, value = text.partition(":")
    name, value = name.strip(), value.strip()
    if not colon or not name or any(c.isspace() or not c.isprintable() for c in name):
        raise TransportError(f'header {text.split(":", 1)[0][:60]!r}: expected "Name: value"')
    if any(c in value for c in "\r\n"):
        raise TransportError(f"header {name}: the value must be one line")
    return name, value


def parse_headers(texts: Iterable[str]) -> tuple[tuple[str, str], ...]:
    return tuple(parse_header(text) for text in texts)


def explain_failure(exc: BaseException, url: str) -> str:
    """One line on why the connection to ``url`` could not be opened, with what to do about it."""
    if isinstance(exc, ssl.SSLCertVerificationError):
        return (
            f"TLS: certificate verify failed ({exc.verify_message or exc.reason}); give the adapter's CA with "
            "--ca-bundle FILE (profile connection.ca_bundle), or --insecure to skip verification"
        )
    if isinstance(exc, ssl.SSLError):
        return f"TLS: {exc.reason or exc} (is the adapter serving wss:// on that port?)"
    if isinstance(exc, RedirectRefused):
        return str(exc)
    if isinstance(exc, InvalidStatus):
        status = exc.response.status_code
        hint = ""
        if status in (401, 403):
            hint = "; the adapter refused the credentials: check --header (profile connection.headers)"
        elif status == 400:
            hint = "; no subprotocol it accepts? check --subprotocol (profile connection.subprotocols)"
        return (
            f"the adapter refused the WebSocket handshake with HTTP {status} {quoted(exc.response.reason_phrase)}"
            f"{hint}"
        )
    if isinstance(exc, InvalidHandshake):
        return f"the WebSocket handshake failed: {quoted(str(exc))}"
    if isinstance(exc, InvalidURI):
        return f"not a WebSocket address: {quoted(str(exc))}"
    if isinstance(exc, ConnectionRefusedError):
        return "the connection was refused (nothing listens there)"
    text = str(exc) or type(exc).__name__
    if url.lower().startswith("wss://") and isinstance(
        exc, ConnectionResetError | ConnectionAbortedError | EOFError
    ):
        return f"TLS: the connection closed in the handshake ({text}): is the adapter serving wss:// on that port?"
    return text
