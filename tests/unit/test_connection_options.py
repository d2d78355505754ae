"""Connection options: the profile's connection section (CA bundle relative to the profile, headers,
subprotocols), the command line's over it, and the secrets a profile gives its redactor."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.core.redact import REDACTED
from harness.paths import suites_dir
from harness.runner.transport import Transport, TransportError, parse_header
from harness.spec.catalogue import Catalogue
from harness.spec.loader import SpecError
from harness.suite import load_profile

BASE = (suites_dir() / "profiles" / "reference-generic.yaml").read_text(encoding="utf-8")


def _profile(folder: Path, extra: str) -> Path:
    path = folder / "lab.yaml"
    path.write_text(BASE + extra, encoding="utf-8")
    return path


def test_the_connection_section_is_read_with_the_ca_bundle_relative_to_the_profile(
    catalogue: Catalogue, tmp_path: Path, tls: dict[str, Path]
) -> None:
    (tmp_path / "ca.pem").write_bytes(tls["ca"].read_bytes())
    extra = (
        "connection:\n  ca_bundle: ca.pem\n  headers: {Authorization: Bearer t0k3n-abc}\n"
        "  subprotocols: [mediabar.v1]\nredact: [destination]\n"
    )
    profile = load_profile(_profile(tmp_path, extra), catalogue)
    assert profile.transport == Transport(
        ca_bundle=str(tmp_path / "ca.pem"),
        headers=(("Authorization", "Bearer t0k3n-abc"),),
        subprotocols=("mediabar.v1",),
    )
    assert profile.transport.ssl_context("wss://adapter.lab/mb") is not None
    assert profile.transport.ssl_context("ws://adapter.lab/mb") is None
    redactor = profile.settings().redactor
    assert redactor.text("Bearer t0k3n-abc and t0k3n-abc") == f"{REDACTED} and {REDACTED}"
    assert "destination" in redactor.fields


def test_a_missing_ca_bundle_is_a_problem_at_its_line(catalogue: Catalogue, tmp_path: Path) -> None:
    path = _profile(tmp_path, "connection:\n  ca_bundle: missing.pem\n")
    with pytest.raises(SpecError) as error:
        load_profile(path, catalogue)
    line = len(BASE.splitlines()) + 2
    assert [str(p) for p in error.value.problems] == [
        f"{error.value.problems[0].file}:{line}: CA bundle {tmp_path / 'missing.pem'}: no such file"
    ]


def test_the_command_line_wins_over_the_profile() -> None:
    profile = Transport(
        ca_bundle="/lab/ca.pem", headers=(("X-Key", "old"), ("X-Tenant", "lab")), subprotocols=("a",)
    )
    cli = Transport(headers=(("x-key", "new"),), subprotocols=("b",))
    merged = profile.overridden(cli)
    assert merged.ca_bundle == "/lab/ca.pem" and not merged.insecure
    assert merged.headers == (("X-Tenant", "lab"), ("x-key", "new")) and merged.subprotocols == ("b",)
    assert profile.overridden(Transport(insecure=True)).ca_bundle is None
    assert not Transport(insecure=True).overridden(Transport(ca_bundle="/my/ca.pem")).insecure


def test_the_profile_s_secrets_and_the_command_line_s_reach_the_redactor(
    catalogue: Catalogue, tmp_path: Path
) -> None:
    extra = (
        "startup:\n  send:\n    - {command: agent.login, target: '', data: {agent: '4711', password: lab-pw-1}}\n"
    )
    profile = load_profile(_profile(tmp_path, extra), catalogue)
    settings = profile.settings(Transport(headers=(("X-Key", "cli-key-1"),)), "wss://u:url-pw-1@adapter.lab/mb")
    shown = settings.redactor.text("lab-pw-1 cli-key-1 url-pw-1 4711")
    assert shown == f"{REDACTED} {REDACTED} {REDACTED} 4711"
    assert settings.transport.headers == (("X-Key", "cli-key-1"),)


@pytest.mark.parametrize("text", ["Authorization Bearer x", ": x", "Bad Name: x", "X-Key: a\nb"])
def test_a_header_that_is_not_name_colon_value_is_refused(text: str) -> None:
    with pytest.raises(TransportError):
        parse_header(text)


def test_a_header_keeps_its_value_after_the_first_colon() -> None:
    assert parse_header("Authorization:  Basic YTpi:c ") == ("Authorization", "Basic YTpi:c")


def test_a_profile_takes_secrets_from_the_environment_and_redacts_them(
    catalogue: Catalogue, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MB_LAB_TOKEN", "t0k3n-from-env")
    monkeypatch.setenv("MB_LAB_TENANT", "tenant-7")
    extra = 'connection:\n  headers: {X-Lab: "${env:MB_LAB_TOKEN}"}\n'
    extra += 'connect_params: {tenant: "${env:MB_LAB_TENANT}"}\n'
    profile = load_profile(_profile(tmp_path, extra), catalogue)
    assert profile.transport.headers == (("X-Lab", "t0k3n-from-env"),)
    assert profile.connect_params == {"tenant": "tenant-7"}
    redactor = profile.settings().redactor
    # a value read from the environment is a secret whatever its field is called
    assert redactor.text("tenant-7 and t0k3n-from-env") == f"{REDACTED} and {REDACTED}"


def test_an_unset_environment_variable_is_a_problem_at_its_line(
    catalogue: Catalogue, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("MB_LAB_UNSET", raising=False)
    path = _profile(tmp_path, 'connection:\n  headers: {X-Lab: "${env:MB_LAB_UNSET}"}\n')
    with pytest.raises(SpecError) as raised:
        load_profile(path, catalogue)
    line = len(BASE.splitlines()) + 2
    assert f"lab.yaml:{line}: the environment variable MB_LAB_UNSET" in str(raised.value)
