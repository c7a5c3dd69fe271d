"""The config file (`--config realtalk.toml`): flags over environment over file over defaults, errors that name
the key, phone profiles as tables, `realtalk config show` with secrets masked; model files checked at startup."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from realtalk import cli
from realtalk.config import Settings
from realtalk.engines.embedded import smollm
from realtalk.server.phone_profiles import PhoneProfiles
from tests.test_cli import settings_for

EXAMPLE = Path(__file__).parent.parent / "examples" / "realtalk.toml"


def config_file(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "realtalk.toml"
    path.write_text(text)
    return path


def refusal(argv: list[str]) -> str:
    """What `realtalk` says when it refuses to start with `argv`."""
    with pytest.raises(SystemExit) as exited:
        cli.main(argv)
    return str(exited.value)


def test_a_flag_beats_the_environment_which_beats_the_file_which_beats_the_default(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    text = 'port = 9001\nmax_connections = 7\nhost = "0.0.0.0"\ninstructions = "From the file."\n'
    path = config_file(tmp_path, text)
    monkeypatch.setenv("REALTALK_PORT", "9002")
    monkeypatch.setenv("REALTALK_MAX_CONNECTIONS", "8")
    settings = settings_for(["--config", str(path), "--port", "9003"])
    assert (settings.port, settings.max_connections, settings.host) == (9003, 8, "0.0.0.0")
    assert (settings.instructions, settings.threads) == ("From the file.", 2)


def test_the_config_file_can_be_named_by_the_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REALTALK_CONFIG", str(config_file(tmp_path, "port = 9004\n")))
    assert settings_for([]).port == 9004


def test_an_unknown_key_is_refused_naming_it_and_the_file(tmp_path: Path) -> None:
    path = config_file(tmp_path, "prot = 9001\n")
    assert refusal(["serve", "--config", str(path)]) == (
        f"realtalk: config file {path}: unknown setting 'prot' (did you mean 'port'?)"
    )


def test_a_value_of_the_wrong_type_is_refused_naming_its_key(tmp_path: Path) -> None:
    path = config_file(tmp_path, 'port = "eighty"\n')
    assert refusal(["serve", "--config", str(path)]) == (
        "realtalk: invalid configuration:\n"
        "  port: Input should be a valid integer, unable to parse string as an integer"
    )


def test_a_file_that_is_not_toml_is_refused_naming_it(tmp_path: Path) -> None:
    path = config_file(tmp_path, "port = \n")
    assert refusal(["serve", "--config", str(path)]).startswith(f"realtalk: config file {path}: not valid TOML:")


def test_a_missing_config_file_is_refused_naming_it(tmp_path: Path) -> None:
    path = tmp_path / "absent.toml"
    assert refusal(["serve", "--config", str(path)]) == (
        f"realtalk: config file {path}: cannot be read (No such file or directory)"
    )


def test_profile_tables_are_phone_profiles(tmp_path: Path) -> None:
    text = '[profiles.support]\ntype = "realtime"\ninstructions = "Support line."\naudio.output.voice = "coral"\n'
    path = config_file(tmp_path, text)
    profiles = PhoneProfiles(Settings(config=path))
    support = profiles.config("support")
    assert (support.instructions, support.output.voice) == ("Support line.", "coral")
    assert support.output.format == "g711_ulaw"  # over the phone defaults


def test_a_profile_in_both_the_config_file_and_the_json_file_is_refused(tmp_path: Path) -> None:
    path = config_file(tmp_path, '[profiles.support]\ntype = "realtime"\ninstructions = "Support line."\n')
    (tmp_path / "profiles.json").write_text('{"support": {"type": "realtime", "instructions": "Other."}}')
    with pytest.raises(ValueError, match="profile 'support' is also in profiles"):
        PhoneProfiles(Settings(config=path, phone_profiles=tmp_path / "profiles.json"))


def test_the_example_config_file_parses_with_its_profiles() -> None:
    settings = Settings(config=EXAMPLE)
    assert (settings.port, settings.tts_voices) == (8000, {"alloy": "jf_alpha", "ash": "jm_kumo"})
    profiles = PhoneProfiles(settings)
    transcription = profiles.config("french").input.transcription
    assert transcription is not None and transcription.language == "fr"


def test_config_show_masks_every_secret_and_says_where_each_value_came_from(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    path = config_file(
        tmp_path,
        'ice_credential = "turn-pass"\nllm_url = "http://user:url-pass@gpu-box:8000/v1"\nport = 9001\n',
    )
    monkeypatch.setenv("REALTALK_TWILIO_AUTH_TOKEN", "twilio-pass")
    cli.main(["config", "show", "--config", str(path), "--api-key", "key-1", "--api-key", "key-2"])
    shown = capsys.readouterr().out
    lines = set(shown.splitlines())
    assert {
        'api_key = ["***", "***"]  # flag',
        'twilio_auth_token = "***"  # env',
        'ice_credential = "***"  # file',
        'llm_url = "http://user:***@gpu-box:8000/v1"  # file',
        "port = 9001  # file",
        "threads = 2  # default",
        "# llm_gguf is not set  # default",
    } <= lines
    assert not any(secret in shown for secret in ("key-1", "key-2", "twilio-pass", "turn-pass", "url-pass"))
    assert tomllib.loads(shown)["port"] == 9001  # the output is itself a config file


def test_a_missing_gguf_stops_the_server_naming_the_setting_and_the_path(tmp_path: Path) -> None:
    path = tmp_path / "missing.gguf"
    assert refusal(["serve", "--llm-gguf", str(path)]) == (
        f"realtalk: invalid configuration:\n  llm_gguf: {path}: no such file"
    )


def test_a_file_that_is_not_gguf_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "model.gguf"
    path.write_bytes(b"<html>not a model</html>")
    assert refusal(["serve", "--llm-gguf", str(path)]) == (
        f"realtalk: invalid configuration:\n  llm_gguf: {path}: not a GGUF file: it does not start with 'GGUF'"
    )


@pytest.mark.parametrize(
    ("flag", "setting", "content", "problem"),
    [
        ("--kokoro-model", "kokoro_model", b"PK\x03\x04", "not an ONNX model"),
        ("--kokoro-voices", "kokoro_voices", b"\x08\x08", "not a NumPy voices file (.npz or .bin of style vectors)"),
        ("--piper-voice", "piper_voice", b"", "the file is empty"),
    ],
)
def test_a_voice_file_of_the_wrong_format_is_refused(
    tmp_path: Path, flag: str, setting: str, content: bytes, problem: str
) -> None:
    path = tmp_path / "voice.onnx"
    path.write_bytes(content)
    assert refusal(["serve", flag, str(path)]) == f"realtalk: invalid configuration:\n  {setting}: {path}: {problem}"


def test_a_piper_voice_without_its_json_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "voice.onnx"
    path.write_bytes(b"\x08\x08")
    assert refusal(["serve", "--piper-voice", str(path)]) == (
        f"realtalk: invalid configuration:\n  piper_voice: {path}.json: no such file"
    )


def test_a_model_file_for_an_engine_not_in_use_is_refused() -> None:
    assert refusal(["serve", "--engines", "scripted", "--llm-gguf", str(smollm.model_path())]) == (
        "realtalk: invalid configuration:\n  settings: llm_gguf is for the smollm2 llm engine, but it is 'scripted'"
    )


def test_the_embedded_llm_takes_the_gguf_given() -> None:
    choice = settings_for(["--llm-gguf", str(smollm.model_path()), "--llm-context-tokens", "2048"]).engine_choice()
    assert (choice.llm, choice.llm_gguf, choice.llm_context_tokens) == ("smollm2", smollm.model_path(), 2048)


def test_a_whisper_language_must_be_auto_or_a_code() -> None:
    assert refusal(["serve", "--whisper-language", "French"]).startswith(
        "realtalk: invalid configuration:\n  whisper_language: String should match pattern"
    )
