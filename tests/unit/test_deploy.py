"""The deployment files run the commands the README documents, and proxy streams unbuffered."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"


def documented_commands() -> set[tuple[str, ...]]:
    """Each line of the README's production section's shell blocks, as words, the program without its path."""
    readme = (ROOT / "README.md").read_text()
    section = readme.split("## Production", 1)[1].split("\n## ", 1)[0]
    lines = [line for block in re.findall(r"```sh\n(.*?)```", section, re.DOTALL) for line in block.splitlines()]
    return {normalised(shlex.split(line.split("  #")[0])) for line in lines if line.strip()}


def normalised(words: list[str]) -> tuple[str, ...]:
    return (Path(words[0]).name, *words[1:])


def compose() -> dict:
    return yaml.safe_load((DEPLOY / "compose.yaml").read_text())


def dockerfile_cmd() -> list[str]:
    match = re.search(r"^CMD (\[.*\])$", (DEPLOY / "Dockerfile").read_text(), re.MULTILINE)
    assert match, "the Dockerfile has no CMD in exec form"
    return yaml.safe_load(match[1])


def service_commands() -> dict[str, list[str]]:
    """What each compose service runs: its own command, or the image's."""
    return {
        name: service.get("command") or dockerfile_cmd()
        for name, service in compose()["services"].items()
        if "build" in service
    }


def test_every_command_the_containers_run_is_documented() -> None:
    documented = documented_commands()
    commands = service_commands()
    assert {"migrate", "app1", "app2"} <= set(commands)
    for name, command in commands.items():
        assert normalised(command) in documented, f"compose service {name!r} runs {command}, not in the README"


def test_the_systemd_unit_runs_a_documented_command() -> None:
    unit = (DEPLOY / "ba-assistant.service").read_text()
    commands = re.findall(r"^Exec(?:Start|StartPre)=(.+)$", unit, re.MULTILINE)
    assert commands
    for command in commands:
        assert normalised(shlex.split(command)) in documented_commands(), f"the unit runs {command}, not in the README"


def test_the_image_holds_what_the_app_needs() -> None:
    copied = re.findall(r"^COPY (\S+) ", (DEPLOY / "Dockerfile").read_text(), re.MULTILINE)
    for needed in ("requirements.txt", "gunicorn.conf.py", "webapp", "templates", "static", "migrations"):
        assert needed in copied and (ROOT / needed).exists(), needed


def test_the_proxy_sends_to_every_app_service_and_never_buffers_a_stream() -> None:
    conf = (DEPLOY / "nginx.conf").read_text()
    port = dockerfile_cmd()[dockerfile_cmd().index("--bind") + 1].rsplit(":", 1)[1]
    upstream = set(re.findall(r"^\s*server (\S+?)(?: |;)", conf.split("upstream", 1)[1].split("}", 1)[0], re.MULTILINE))
    apps = {name for name, command in service_commands().items() if normalised(command)[0] == "gunicorn"}
    assert upstream == {f"{name}:{port}" for name in apps}
    routes = re.findall(r"location ~ \^(\S+)\$ \{(.*?)\}", conf, re.DOTALL)
    stream = [body for pattern, body in routes if re.fullmatch(pattern, "/messages/0b7e-41c2/stream")]
    assert len(stream) == 1 and "proxy_buffering off;" in stream[0]
    assert "proxy_set_header X-Request-ID $request_id;" in conf


@pytest.mark.parametrize("service", ["app1", "app2"])
def test_the_app_services_are_checked_by_readiness_and_share_redis(service: str) -> None:
    definition = compose()["services"][service]
    assert "/readyz" in " ".join(definition["healthcheck"]["test"])
    assert definition["environment"]["REDIS_URL"].startswith("redis://")
