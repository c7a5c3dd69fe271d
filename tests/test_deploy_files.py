"""The container and compose files, checked without Docker: every realtalk command line in them parses
with realtalk's own parser and settings, the health check asks a real route, nginx upgrades WebSockets."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from realtalk.cli import build_parser, settings_from
from realtalk.config import Settings
from realtalk.server.app import create_app

ROOT = Path(__file__).resolve().parent.parent
API_KEY = "sk-compose-test"


def dockerfile() -> list[tuple[str, str]]:
    """(instruction, arguments) for each instruction, continuation lines joined, comments left out."""
    text = re.sub(r"\\\n", " ", (ROOT / "Dockerfile").read_text())
    lines = [line.strip() for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#")]
    return [(line.split(None, 1)[0], line.split(None, 1)[1]) for line in lines]


def instruction(name: str) -> str:
    return [arguments for kind, arguments in dockerfile() if kind == name][-1]


def image_environment() -> dict[str, str]:
    pairs = [pair.split("=", 1) for kind, arguments in dockerfile() if kind == "ENV" for pair in arguments.split()]
    return dict(pairs)


def compose() -> dict[str, Any]:
    return dict(yaml.safe_load((ROOT / "compose.yaml").read_text()))


def settings_in_container(
    monkeypatch: pytest.MonkeyPatch, arguments: list[str], environment: dict[str, str]
) -> Settings:
    """The settings `ENTRYPOINT` + `arguments` give realtalk under the image's and the service's environment."""
    for name, value in {**image_environment(), **environment}.items():
        if name.startswith("REALTALK_"):
            monkeypatch.setenv(name, value)
    entrypoint = json.loads(instruction("ENTRYPOINT"))
    assert entrypoint[:2] == ["realtalk", "serve"]
    return settings_from(build_parser().parse_args([*entrypoint[1:], *arguments]))


def test_the_image_serves_on_every_interface_on_its_exposed_port(monkeypatch: pytest.MonkeyPatch) -> None:
    settings = settings_in_container(monkeypatch, json.loads(instruction("CMD")), {})
    assert (settings.host, settings.port, settings.log_format) == ("0.0.0.0", 8000, "json")
    assert instruction("EXPOSE") == "8000"
    assert instruction("FROM") in ("python:3.11-slim", "python:3.12-slim")
    assert instruction("USER") not in ("root", "0")


def test_the_images_health_check_asks_a_real_route() -> None:
    check = instruction("HEALTHCHECK")
    (path,) = re.findall(r"'(/\w+)'", check)
    routes = {getattr(route, "path", None) for route in create_app(Settings(engines="scripted")).routes}
    assert path == "/healthz" and path in routes
    assert "curl" not in check and '"python"' in check


def test_the_image_installs_as_the_makefile_does() -> None:
    makefile = (ROOT / "Makefile").read_text()
    install = " ".join(arguments for kind, arguments in dockerfile() if kind == "RUN")
    assert "--no-deps -r requirements-nodeps.txt" in makefile
    assert "pip install --quiet --no-deps -r requirements-nodeps.txt" in install
    assert "pip install --quiet ." in install
    assert "realtalk models" in install


def test_compose_runs_two_realtalk_containers_behind_nginx_with_redis_and_a_gpu_llm() -> None:
    services = compose()["services"]
    assert set(services) == {"realtalk-1", "realtalk-2", "proxy", "redis", "vllm"}
    (device,) = services["vllm"]["deploy"]["resources"]["reservations"]["devices"]
    assert (device["driver"], device["capabilities"]) == ("nvidia", ["gpu"])
    assert services["proxy"]["volumes"] == ["./deploy/nginx.conf:/etc/nginx/nginx.conf:ro"]


@pytest.mark.parametrize("name", ["realtalk-1", "realtalk-2"])
def test_each_realtalk_service_command_parses_and_reaches_vllm_and_redis(
    name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    services = compose()["services"]
    service = services[name]
    environment = {key: API_KEY if "${" in value else value for key, value in service["environment"].items()}
    settings = settings_in_container(monkeypatch, service["command"], environment)
    vllm = services["vllm"]["command"]
    assert (settings.host, settings.port, settings.workers, settings.api_key) == ("0.0.0.0", 8000, 1, [API_KEY])
    assert (settings.llm, settings.llm_url, settings.redis_url) == (
        "remote",
        "http://vllm:8000/v1",
        "redis://redis:6379/0",
    )
    assert settings.llm_model == vllm[vllm.index("--served-model-name") + 1]
    assert int(vllm[vllm.index("--max-model-len") + 1]) == settings.llm_context_tokens
    assert int(service["stop_grace_period"].removesuffix("s")) > settings.drain_seconds


def test_nginx_upgrades_realtime_websockets_and_balances_over_both_containers() -> None:
    conf = (ROOT / "deploy" / "nginx.conf").read_text()
    realtime = conf[conf.index("location /v1/realtime {") : conf.index("}", conf.index("location /v1/realtime {"))]
    assert "proxy_set_header Upgrade $http_upgrade;" in realtime
    assert "proxy_set_header Connection $connection_upgrade;" in realtime
    assert int(re.search(r"proxy_read_timeout (\d+)s;", realtime).group(1)) >= Settings().max_session_minutes * 60  # type: ignore[union-attr]
    upstream = re.findall(r"server (realtalk-\d):8000", conf)
    assert upstream == ["realtalk-1", "realtalk-2"] and set(upstream) <= set(compose()["services"])
    assert not re.search(r"^\s*(ip_hash|hash|sticky)\b", conf, re.MULTILINE)  # round robin, no affinity


def test_the_build_context_leaves_out_environments_and_keeps_what_pip_needs() -> None:
    ignored = {line for line in (ROOT / ".dockerignore").read_text().splitlines() if line and line[0] != "#"}
    assert {".git", ".venv", "tests"} <= ignored
    assert not ignored & {"src", "pyproject.toml", "README.md", "LICENSE", "requirements-nodeps.txt"}
