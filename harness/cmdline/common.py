"""What several subcommands share: stopping on SIGTERM, the connection options, the catalogue."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from ..paths import specs_dir
from .exits import Exit

if TYPE_CHECKING:
    from ..runner.transport import Transport
    from ..spec.catalogue import Catalogue


def stop_on_sigterm() -> None:
    """A CI job that is cancelled or times out gets SIGTERM, not Ctrl-C: stop the same way, so the tests that
    ended are reported (Allure results, JUnit, certificate) and the embedded reference adapter is stopped."""
    import signal

    if signal.getsignal(signal.SIGTERM) == signal.SIG_DFL:
        signal.signal(signal.SIGTERM, signal.default_int_handler)


def connection_options(args: argparse.Namespace) -> Transport:
    """The command line's connection options, checked (ValueError names what is wrong)."""
    from ..runner.transport import Transport, check_ca_bundle, parse_headers

    if args.insecure and args.ca_bundle is not None:
        raise ValueError("--insecure and --ca-bundle contradict each other: give one")
    return Transport(
        ca_bundle=check_ca_bundle(str(args.ca_bundle.resolve())) if args.ca_bundle is not None else None,
        insecure=args.insecure,
        headers=parse_headers(args.header),
        subprotocols=tuple(args.subprotocol),
    )


def connection_pytest_args(transport: Transport) -> list[str]:
    """The command line's connection options as the pytest plugin's."""
    found = [f"--ca-bundle={transport.ca_bundle}"] if transport.ca_bundle else []
    found += ["--insecure"] if transport.insecure else []
    found += [f"--adapter-header={name}: {value}" for name, value in transport.headers]
    return found + [f"--adapter-subprotocol={name}" for name in transport.subprotocols]


def catalogue(path: Path | None) -> Catalogue:
    from ..spec.loader import SpecError, load_catalogue

    try:
        return load_catalogue(path or specs_dir())
    except SpecError as exc:
        print(f"mbconform: the spec catalogue has problems:\n{exc}", file=sys.stderr)
        raise SystemExit(int(Exit.USAGE)) from exc
