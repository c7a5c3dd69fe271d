"""`realtalk serve` settings: flags over `REALTALK_*` variables over defaults; the open-server warning; the
benchmark's mode and stack choices."""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Any

import pytest

from realtalk import cli
from realtalk.bench.modes import DEFAULT_MODES, select
from realtalk.cli import build_parser, settings_from
from realtalk.config import Settings
from realtalk.observability.metrics import MULTIPROC_ENV
from realtalk.server.worker import SETTINGS_VARIABLE, WORKER_APP
from realtalk.transports.event_rate import EventRateLimit


def settings_for(argv: list[str]) -> Any:
    return settings_from(build_parser().parse_args(["serve", *argv]))


def served(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """What `realtalk serve` would have uvicorn serve (its `Config`s), serving nothing (and leaving the test
    process's logging as it was)."""
    ran: list[Any] = []
    monkeypatch.setattr("realtalk.logs.configure_logging", lambda *args: None)
    monkeypatch.setattr("uvicorn.Server.run", lambda server, sockets=None: ran.append(server.config))
    return ran


def test_defaults_bind_loopback_port_8000_without_keys(monkeypatch: pytest.MonkeyPatch) -> None:
    settings = settings_for([])
    assert (settings.host, settings.port, settings.api_key, settings.engines) == ("127.0.0.1", 8000, [], "embedded")


def test_environment_variables_set_every_flag(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REALTALK_HOST", "0.0.0.0")
    monkeypatch.setenv("REALTALK_PORT", "9001")
    monkeypatch.setenv("REALTALK_API_KEY", "k1, k2")
    monkeypatch.setenv("REALTALK_ENGINES", "scripted")
    monkeypatch.setenv("REALTALK_INSTRUCTIONS", "Hi.")
    settings = settings_for([])
    assert (settings.host, settings.port, settings.api_key, settings.instructions) == (
        "0.0.0.0",
        9001,
        ["k1", "k2"],
        "Hi.",
    )


def test_flags_win_over_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REALTALK_PORT", "9001")
    monkeypatch.setenv("REALTALK_API_KEY", "env-key")
    settings = settings_for(["--port", "9002", "--api-key", "a", "--api-key", "b"])
    assert (settings.port, settings.api_key) == (9002, ["a", "b"])


def test_phone_flags_and_their_variables(monkeypatch: pytest.MonkeyPatch, tmp_path: Any) -> None:
    monkeypatch.setenv("REALTALK_TWILIO_AUTH_TOKEN", "from-env")
    monkeypatch.setenv("REALTALK_ALLOW_UNSIGNED_PHONE_STREAMS", "true")
    settings = settings_for(["--public-url", "https://phone.example.org", "--phone-profiles", str(tmp_path / "p.json")])
    assert (settings.public_url, settings.phone_profiles) == ("https://phone.example.org", tmp_path / "p.json")
    assert (settings.twilio_auth_token, settings.allow_unsigned_phone_streams) == ("from-env", True)
    assert (
        settings_for(["--call-webhook", "https://app.example.org/calls"]).call_webhook
        == "https://app.example.org/calls"
    )
    assert settings_for([]).telnyx_stream_token is None


def test_every_serve_flag_has_an_environment_variable() -> None:
    flags = set(vars(build_parser().parse_args(["serve"]))) - {"command"}
    assert flags and flags <= set(cli.Settings.model_fields), flags - set(cli.Settings.model_fields)


@pytest.mark.parametrize(
    ("host", "loopback"),
    [("127.0.0.1", True), ("localhost", True), ("::1", True), ("0.0.0.0", False), ("192.0.2.1", False)],
)
def test_loopback_detection(host: str, loopback: bool) -> None:
    assert cli.is_loopback(host) is loopback


def test_an_open_server_on_a_public_address_warns_loudly(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    ran = served(monkeypatch)
    caplog.set_level(logging.WARNING, logger="realtalk")
    cli.main(["serve", "--host", "0.0.0.0", "--engines", "scripted"])
    assert ran and ran[0].host == "0.0.0.0"
    assert any("WITHOUT API KEYS" in r.getMessage() for r in caplog.records)


def test_a_keyed_server_does_not_warn(monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    served(monkeypatch)
    caplog.set_level(logging.WARNING, logger="realtalk")
    cli.main(["serve", "--host", "0.0.0.0", "--api-key", "secret", "--engines", "scripted"])
    assert not any("WITHOUT API KEYS" in r.getMessage() for r in caplog.records)


def test_the_end_of_turn_engine_follows_the_preset_unless_named(monkeypatch: pytest.MonkeyPatch) -> None:
    assert settings_for([]).engine_choice().turn == "smart-turn-v3"
    assert settings_for(["--engines", "scripted"]).engine_choice().turn == "scripted"
    monkeypatch.setenv("REALTALK_TURN", "scripted")
    assert settings_for([]).engine_choice().turn == "scripted"
    assert settings_for(["--engines", "scripted", "--turn", "smart-turn-v3"]).engine_choice().turn == "smart-turn-v3"


def test_bad_configuration_exits_with_a_message() -> None:
    with pytest.raises(SystemExit) as exited:
        cli.main(["serve", "--port", "70000"])
    assert "port" in str(exited.value)


def test_bench_latency_modes_default_to_all_but_the_unspeculating_one() -> None:
    args = build_parser().parse_args(["bench", "latency"])
    assert args.modes == DEFAULT_MODES and "embedded-nospec" not in args.modes
    assert args.stacks == ["embedded", "scripted"]


def test_bench_stacks_narrow_the_modes_asked_for() -> None:
    args = build_parser().parse_args(["bench", "latency", "--modes", "embedded-nospec,scripted-server_vad"])
    assert select(args.modes, ["scripted"]) == ["scripted-server_vad"]
    with pytest.raises(ValueError, match="none of the modes"):
        select(["embedded-pcmu"], ["scripted"])


@pytest.mark.parametrize("flag", ["--modes", "--stacks"])
def test_bench_refuses_unknown_names(flag: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        build_parser().parse_args(["bench", "latency", flag, "embedded,nonsense"])
    assert "choose from" in capsys.readouterr().err


def test_every_cap_and_timeout_is_a_flag_and_reaches_uvicorn(monkeypatch: pytest.MonkeyPatch) -> None:
    flags = [
        "--max-event-mb", "2", "--max-sessions-per-key", "3", "--max-session-audio-mb", "50",
        "--max-conversation-items", "100", "--max-events-per-second", "20", "--event-burst", "40",
        "--max-body-mb", "1", "--body-timeout", "7", "--header-timeout", "4", "--max-header-kib", "16",
        "--keep-alive-timeout", "9",
    ]  # fmt: skip
    settings = settings_for(flags)
    assert (settings.max_event_bytes, settings.max_sessions_per_key, settings.max_session_audio_bytes) == (
        2 * 2**20,
        3,
        50 * 2**20,
    )
    assert (settings.max_conversation_items, settings.event_rate) == (100, EventRateLimit(20, 40))
    assert (settings.max_body_bytes, settings.body_timeout, settings.header_timeout) == (2**20, 7, 4)
    assert (settings.max_header_bytes, settings.keep_alive_timeout) == (16 * 1024, 9)
    ran = served(monkeypatch)
    cli.main(["serve", "--engines", "scripted", *flags])
    (config,) = ran
    assert (config.ws_max_size, config.timeout_keep_alive) == (3 * 2**20, 9)
    assert (config.http.header_timeout, config.http.max_header_bytes) == (4, 16 * 1024)


def test_shared_state_flags_and_their_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    flagged = settings_for(["--redis-url", "redis://10.0.0.5:6379/2", "--max-new-sessions-per-minute", "30"])
    monkeypatch.setenv("REALTALK_REDIS_URL", "rediss://cache:6380/0")
    monkeypatch.setenv("REALTALK_MAX_NEW_SESSIONS_PER_MINUTE", "12")
    from_environment = settings_for([])
    assert (flagged.redis_url, flagged.max_new_sessions_per_minute) == ("redis://10.0.0.5:6379/2", 30)
    assert (from_environment.redis_url, from_environment.max_new_sessions_per_minute) == ("rediss://cache:6380/0", 12)


def test_a_redis_url_of_another_scheme_is_refused_with_an_example() -> None:
    with pytest.raises(SystemExit) as exited:
        cli.main(["serve", "--redis-url", "localhost:6379"])
    assert "expected a redis://, rediss:// or unix:// URL, e.g. redis://localhost:6379/0" in str(exited.value)


def test_the_environment_sets_caps_too(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REALTALK_MAX_SESSIONS_PER_KEY", "5")
    monkeypatch.setenv("REALTALK_HEADER_TIMEOUT", "2.5")
    settings = settings_for([])
    assert (settings.max_sessions_per_key, settings.header_timeout, settings.max_event_mb) == (5, 2.5, 21)


def test_bench_soak_takes_its_load_and_leaves_the_server_settings_alone() -> None:
    args = build_parser().parse_args(
        ["bench", "soak", "--stack", "embedded", "--clients", "3", "--minutes", "16", "--warmup-minutes", "6"]
    )
    assert (args.which, args.stack, args.clients, args.minutes, args.warmup_minutes) == ("soak", "embedded", 3, 16, 6)
    assert settings_from(args) == settings_from(build_parser().parse_args(["bench", "soak"]))


def test_computed_answers_are_on_by_default_and_reach_the_engine_choice(monkeypatch: pytest.MonkeyPatch) -> None:
    assert settings_for([]).engine_choice().llm_computed_answers is True
    assert settings_for(["--no-llm-computed-answers"]).engine_choice().llm_computed_answers is False
    monkeypatch.setenv("REALTALK_LLM_COMPUTED_ANSWERS", "false")
    assert settings_for([]).llm_computed_answers is False
    assert settings_for(["--llm-computed-answers"]).llm_computed_answers is True


def test_observability_flags_and_their_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    assert (settings_for([]).metrics, settings_for([]).otlp_endpoint) == (True, None)
    monkeypatch.setenv("REALTALK_OTLP_ENDPOINT", "http://collector:4318")
    assert settings_for([]).otlp_endpoint == "http://collector:4318"
    settings = settings_for(["--no-metrics", "--otlp-endpoint", "http://other:4318"])
    assert (settings.metrics, settings.otlp_endpoint) == (False, "http://other:4318")


def test_production_settings_from_flags_and_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    defaults = settings_for([])
    assert (defaults.workers, defaults.log_format, defaults.drain_seconds, defaults.redis_url) == (1, "text", 30, None)
    monkeypatch.setenv("REALTALK_WORKERS", "4")
    monkeypatch.setenv("REALTALK_LOG_FORMAT", "json")
    settings = settings_for(["--drain-seconds", "12.5"])
    assert (settings.workers, settings.log_format, settings.drain_seconds) == (4, "json", 12.5)


class SpawnedNothing:
    """Stands in for uvicorn's supervisor: records what it was given and spawns nothing."""

    given: list[Any] = []

    def __init__(self, config: Any, sockets: list[Any]) -> None:
        SpawnedNothing.given.append((config, sockets))
        for sock in sockets:
            sock.close()

    def run(self) -> None:
        return None


@pytest.fixture
def supervisor(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    monkeypatch.setattr("realtalk.logs.configure_logging", lambda *args: None)
    monkeypatch.setattr("realtalk.server.worker.Supervisor", SpawnedNothing)
    monkeypatch.setenv(SETTINGS_VARIABLE, "")  # so that what `serve` puts there is undone after the test
    monkeypatch.setenv(MULTIPROC_ENV, "")  # likewise the workers' metrics folder (delenv alone records
    monkeypatch.delenv(MULTIPROC_ENV)  # nothing to undo when the variable was never set)
    SpawnedNothing.given = []
    return SpawnedNothing.given


def test_workers_build_their_app_from_the_factory_with_the_parents_settings(
    supervisor: list[Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    cli.main(["serve", "--workers", "3", "--port", "0", "--engines", "scripted", "--api-key", "k1", "--seed", "5"])
    ((config, sockets),) = supervisor
    assert (config.app, config.factory, config.workers, len(sockets)) == (WORKER_APP, True, 3, 1)
    rebuilt = Settings.model_validate_json(os.environ[SETTINGS_VARIABLE])
    assert (rebuilt.workers, rebuilt.api_key, rebuilt.seed, rebuilt.engines) == (3, ["k1"], 5, "scripted")


def test_workers_share_one_fresh_folder_of_metrics(supervisor: list[Any]) -> None:
    cli.main(["serve", "--workers", "2", "--port", "0", "--engines", "scripted"])
    folder = Path(os.environ[MULTIPROC_ENV])
    assert folder.is_dir() and list(folder.iterdir()) == []


def test_workers_without_shared_state_warn_that_secrets_and_key_caps_are_per_process(
    supervisor: list[Any], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="realtalk")
    cli.main(["serve", "--workers", "2", "--port", "0", "--engines", "scripted"])
    cli.main(["serve", "--workers", "2", "--port", "0", "--engines", "scripted", "--redis-url", "redis://r:6379"])
    warnings = [r.getMessage() for r in caplog.records if "without --redis-url" in r.getMessage()]
    assert warnings == [
        "2 workers without --redis-url: each keeps its own state, so an ephemeral key works only on the worker "
        "that minted it, and --max-sessions-per-key caps each worker apart"
    ]
