"""A vendor adapter unlike the reference is certified with a profile alone: channel groups, a log-in request
before anything else, stimuli over HTTP. The reference adapter is started with exactly those options (no
test control), and the start-up checks are proven by adapters that break each of them."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from dataclasses import replace
from typing import Any

import pytest

from harness.core.steps import Step
from harness.core.violations import Category, Verdict
from harness.paths import suites_dir
from harness.reference.process import start_reference
from harness.reference.server import ReferenceAdapter
from harness.runner.flow import Flow, run_flow
from harness.runner.settings import Settings
from harness.spec.catalogue import Catalogue
from harness.suite import load_profile

pytestmark = pytest.mark.selftest
VENDOR = suites_dir() / "profiles" / "example-vendor.yaml"
VENDOR_OPTIONS = ["--addressing", "channelgroup", "--login", "agent.login", "--lab-http"]


def test_the_example_vendor_profile_certifies_an_adapter_started_that_way(tmp_path: Any) -> None:
    with start_reference(VENDOR_OPTIONS) as adapter:
        done = subprocess.run(
            [
                sys.executable,
                "-m",
                "harness",
                "run",
                adapter.url,
                "--profile",
                str(VENDOR),
                "--reports",
                str(tmp_path),
                "--no-html",
                "-q",
                "-p",
                "no:randomly",
            ],
            capture_output=True,
            text=True,
            timeout=240,
            check=False,
        )
    output = done.stdout + done.stderr
    assert done.returncode == 0, output[-4000:]
    assert " failed" not in output and "inconclusive" not in output.lower(), output[-4000:]
    summary = next(line for line in output.splitlines() if "(profile example-vendor)" in line)
    passed = int(summary.split(": ", 1)[1].split(" pass")[0])
    assert passed >= 80, summary  # the declared commands' cases and the call flows that apply
    transcripts = "".join(p.read_text(errors="replace") for p in (tmp_path / "allure-results").glob("*.txt"))
    assert ".grp" in transcripts and "agent.login" in transcripts, "the run did not use groups or the log-in"


def _settings(catalogue: Catalogue, **changes: Any) -> Settings:
    return replace(load_profile(VENDOR, catalogue).settings(), step_timeout=1.5, **changes)


async def _flow(catalogue: Catalogue, adapter: ReferenceAdapter, settings: Settings, flow: Flow) -> Any:
    server = await adapter.serve("127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        return await run_flow(flow, url=f"ws://127.0.0.1:{port}", catalogue=catalogue, settings=settings)
    finally:
        server.close()
        await server.wait_closed()


def _run(catalogue: Catalogue, adapter: ReferenceAdapter, settings: Settings, flow: Flow) -> Any:
    return asyncio.run(asyncio.wait_for(_flow(catalogue, adapter, settings, flow), 30))


OFFER = Flow((Step("command", "channel.activate", "$channel"), Step("stimulus", "call.inbound", "$channel")))


def test_an_http_stimulus_reaches_the_session_of_its_target(catalogue: Catalogue) -> None:
    adapter = ReferenceAdapter(catalogue, addressing="channelgroup", login="agent.login", lab_http=True)
    result = _run(catalogue, adapter, _settings(catalogue), OFFER)
    assert result.verdict == Verdict.PASS, result.violations
    assert "interaction.created" in result.transcript and "GET" not in result.transcript


def test_flat_channels_fail_a_profile_that_declares_channel_groups(catalogue: Catalogue) -> None:
    adapter = ReferenceAdapter(catalogue, login="agent.login", lab_http=True)
    result = _run(catalogue, adapter, _settings(catalogue), OFFER)
    assert result.verdict == Verdict.FAIL
    titles = [violation.title for _, violation in result.violations]
    assert "addressing differs from the profile" in titles


def test_a_refused_log_in_fails_the_start_up(catalogue: Catalogue) -> None:
    adapter = ReferenceAdapter(catalogue, addressing="channelgroup", login="vendor.signin", lab_http=True)
    result = _run(catalogue, adapter, _settings(catalogue), OFFER)
    assert result.verdict >= Verdict.FAIL
    violations = [violation for _, violation in result.violations]
    assert violations[0].title == "start-up request refused" and "agent.login" in violations[0].message
    assert any(v.category is Category.TIMEOUT for v in violations)  # and the session never became ready


def test_a_stimulus_the_lab_cannot_produce_is_inconclusive_not_failed(catalogue: Catalogue) -> None:
    adapter = ReferenceAdapter(catalogue, addressing="channelgroup", login="agent.login", lab_http=False)
    result = _run(catalogue, adapter, _settings(catalogue), OFFER)
    assert result.verdict == Verdict.INCONCLUSIVE
    assert "http stimulus driver could not produce call.inbound" in result.reason


def test_a_shell_stimulus_driver_runs_its_command_with_the_placeholders(
    catalogue: Catalogue, tmp_path: Any
) -> None:
    """The shell driver runs a program; here one that calls the lab endpoint itself, as a vendor's script
    would."""
    script = tmp_path / "offer.py"
    script.write_text(
        "import sys, urllib.request\n"
        "base, stimulus, target = sys.argv[1:4]\n"
        "urllib.request.urlopen(f'{base}/lab/stimulate?stimulus={stimulus}&target={target}', timeout=5).read()\n"
    )
    from harness.runner.stimuli import StimulusDriver

    driver = StimulusDriver(
        "shell", 5.0, command=(sys.executable, str(script), "{adapter_http}", "{stimulus}", "{target}")
    )
    adapter = ReferenceAdapter(catalogue, addressing="channelgroup", login="agent.login", lab_http=True)
    result = _run(catalogue, adapter, _settings(catalogue, stimulus=driver), OFFER)
    assert result.verdict == Verdict.PASS, result.violations
    failing = replace(driver, command=(sys.executable, "-c", "import sys; sys.exit(3)"))
    result = _run(catalogue, adapter, _settings(catalogue, stimulus=failing), OFFER)
    assert result.verdict == Verdict.INCONCLUSIVE and "exited with 3" in result.reason


def test_a_manual_stimulus_prompts_the_operator_and_waits_for_the_events(catalogue: Catalogue) -> None:
    """The operator is played by a task that reacts to the prompt by calling the lab endpoint."""
    from harness.runner.stimuli import StimulusDriver

    adapter = ReferenceAdapter(catalogue, addressing="channelgroup", login="agent.login", lab_http=True)
    driver = StimulusDriver("manual", 5.0, prompt="offer a call to {target}")
    prompts: list[str] = []

    async def main() -> Any:
        server = await adapter.serve("127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        loop = asyncio.get_running_loop()

        def operator(note: Any) -> None:
            text = getattr(note, "text", "")
            if text.startswith("OPERATOR:"):
                prompts.append(text)
                target = text.split("offer a call to ", 1)[1].split(" ", 1)[0]
                url = f"http://127.0.0.1:{port}/lab/stimulate?stimulus=call.inbound&target={target}"
                loop.run_in_executor(
                    None, lambda: __import__("urllib.request").request.urlopen(url, timeout=5).read()
                )

        try:
            return await run_flow(
                OFFER,
                url=f"ws://127.0.0.1:{port}",
                catalogue=catalogue,
                settings=_settings(catalogue, stimulus=driver),
                listener=operator,
            )
        finally:
            server.close()
            await server.wait_closed()

    result = asyncio.run(asyncio.wait_for(main(), 30))
    assert prompts and "waiting up to 5s" in prompts[0]
    assert result.verdict == Verdict.PASS, result.violations
