"""``mbconform serve``: the reference adapter (a simulated platform)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from .common import catalogue as load_specs
from .exits import Exit

if TYPE_CHECKING:
    import ssl


def serve(args: argparse.Namespace) -> int:
    from ..reference.faults import UnknownFault, fault_listing, parse_fault
    from ..reference.server import ReferenceAdapter, run

    if args.list_faults:
        print("\n".join(fault_listing()))
        return 0
    from ..core.conventions import Conventions
    from ..core.simulate import FactError, parse_facts
    from ..runner.transport import TransportError, parse_headers
    from ..spec.loader import SpecError
    from ..suite import load_conventions

    try:
        required = parse_headers(args.require_header)
        tls = _server_tls(args.tls_cert, args.tls_key)
    except TransportError as exc:
        print(f"mbconform serve: {exc}", file=sys.stderr)
        return int(Exit.USAGE)
    if not _loopback(args.host):
        print(
            f"mbconform serve: WARNING: {args.host} is not loopback: other machines reach the reference adapter"
            + (" and produce stimuli on it (--test-control)" if args.test_control else ""),
            file=sys.stderr,
            flush=True,
        )
    catalogue = load_specs(args.specs)
    try:
        faults = [parse_fault(text, catalogue) for text in args.fault]
        facts = parse_facts(catalogue, args.fact)
        conventions = load_conventions(args.conventions, catalogue) if args.conventions else Conventions()
        adapter = ReferenceAdapter(
            catalogue,
            test_control=args.test_control,
            faults=faults,
            platform=args.platform,
            facts=facts,
            addressing=args.addressing,
            login=args.login,
            lab_http=args.lab_http,
            required_headers=required,
            subprotocols=tuple(args.subprotocol),
            conventions=conventions,
            events_first=args.events_first,
        )
    except (UnknownFault, FactError, SpecError) as exc:
        print(f"mbconform serve: {exc}", file=sys.stderr)
        return int(Exit.USAGE)
    run(adapter, args.host, args.port, tls=tls)
    return 0


def _loopback(host: str) -> bool:
    import ipaddress

    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _server_tls(cert: Path | None, key: Path | None) -> ssl.SSLContext | None:
    """The reference adapter's TLS context (wss://), or None; TransportError names what is wrong."""
    import ssl

    from ..runner.transport import TransportError

    if cert is None and key is None:
        return None
    if cert is None or key is None:
        raise TransportError("--tls-cert and --tls-key go together: give both")
    for option, path in (("--tls-cert", cert), ("--tls-key", key)):
        if not path.is_file():
            raise TransportError(f"{option} {path}: no such file")
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    try:
        context.load_cert_chain(cert, key)
    except (OSError, ssl.SSLError) as exc:
        raise TransportError(
            f"--tls-cert {cert} / --tls-key {key}: not a PEM certificate and its key ({exc})"
        ) from exc
    return context
