from pathlib import Path

import pytest

from harness.paths import project_root
from harness.reporting.html import REMOTE_URL, strip_remote_scripts
from harness.spec.catalogue import Catalogue
from harness.spec.loader import SpecError
from harness.suite import load_profile, load_scenario

ROOT = project_root()


def test_the_shipped_scenario_and_profile_load(catalogue: Catalogue) -> None:
    scenario = load_scenario(ROOT / "suites/conformance/inbound-call-hold-retrieve.yaml", catalogue)
    assert scenario.id == "MB-FLOW-HOLD-001" and len(scenario.steps) == 5
    profile = load_profile(ROOT / "suites/profiles/reference-generic.yaml", catalogue)
    assert profile.declares("channel.dial") and profile.stimuli == {
        "call.inbound",
        "chat.inbound",
        "remote.answered",
        "remote.hangup",
    }
    assert profile.media == ("telephony", "chat") and profile.facts["completion"] == "plain"


def test_scenario_problems_are_all_reported_with_lines(tmp_path: Path, catalogue: Catalogue) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(
        "format: mbconform/scenario/1\nid: MB-FLOW-BAD-001\ntitle: t\nlevel: conversation\nsteps:\n"
        "  - command: conversation.fly\n    target: $channel\n"
        "  - command: conversation.hold\n    target: $call\n"
        "  - stimulus: call.inbound\n    target: $channel\n    bind: {x: nothing}\n"
    )
    with pytest.raises(SpecError) as raised:
        load_scenario(path, catalogue)
    text = str(raised.value)
    assert "bad.yaml:6: unknown command 'conversation.fly'" in text
    assert "bad.yaml:9: $call is not bound by the start-up or an earlier step" in text
    assert "bad.yaml:12: call.inbound binds no 'nothing'" in text


def test_a_profile_cannot_declare_unknown_commands(tmp_path: Path, catalogue: Catalogue) -> None:
    text = (
        (ROOT / "suites/profiles/reference-generic.yaml")
        .read_text()
        .replace("commands: all", "commands: [channel.fly]")
    )
    path = tmp_path / "p.yaml"
    path.write_text(text)
    with pytest.raises(SpecError, match=r"p.yaml:\d+: unknown command 'channel.fly'"):
        load_profile(path, catalogue)


def test_remote_scripts_are_removed_from_the_html_report() -> None:
    html = (
        "<html><head><script>window.a = 1;</script>"
        '<script async src="https://www.googletagmanager.com/gtag/js?id=G-X"></script>'
        "<script>\n window.dataLayer = window.dataLayer || [];\n function gtag(){dataLayer.push(arguments);}\n"
        " gtag('config', 'G-X');\n</script>"
        '<script src="data:text/javascript;base64,AAAA"></script></head></html>'
    )
    cleaned, removed = strip_remote_scripts(html)
    assert removed == 2
    assert "window.a = 1" in cleaned and "data:text/javascript" in cleaned
    assert not REMOTE_URL.search(cleaned) and "gtag" not in cleaned


def test_a_lab_without_an_unreachable_number_makes_its_cases_not_applicable(
    tmp_path: Path, catalogue: Catalogue
) -> None:
    """``facts: {unreachable_destination: null}``: the blind transfer to an unreachable number cannot be tried,
    so its cases are not applicable, saying why; the other cases of the command stay."""
    from harness.cases import command_cases

    text = (project_root() / "suites" / "profiles" / "reference-generic.yaml").read_text()
    assert "\nfacts:" not in text
    path = tmp_path / "no-unreachable.yaml"
    path.write_text(text + "\nfacts: {unreachable_destination: null}\n")
    profile = load_profile(path, catalogue)
    cases = {case.id: case for case in command_cases(catalogue, profile) if "BLINDTRANSFER" in case.id}
    outcome = [case for case_id, case in cases.items() if case_id.endswith("-310")]
    assert outcome and not outcome[0].applicable
    assert "names no unreachable_destination" in outcome[0].why_not
    assert cases["MB-CONV-BLINDTRANSFER-001"].applicable
    default = load_profile(project_root() / "suites" / "profiles" / "reference-generic.yaml", catalogue)
    assert [c.applicable for c in command_cases(catalogue, default) if c.id == outcome[0].id] == [True]
