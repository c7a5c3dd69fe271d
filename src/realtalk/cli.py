"""The `realtalk` command. Every flag of `serve` can also be set as a `REALTALK_*` environment variable or in
the config file (`--config`); `realtalk config show` prints what is in effect."""

from __future__ import annotations

import argparse
import contextlib
import ipaddress
import logging
import os
import signal
import sys
from collections.abc import Callable, Collection, Sequence
from pathlib import Path
from typing import Any

from pydantic import ValidationError
from rich.console import Console
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from realtalk import __version__
from realtalk.bench.modes import DEFAULT_MODES, MODES, STACKS, select
from realtalk.config import Settings
from realtalk.engines.base import STTEngine, TTSEngine
from realtalk.engines.registry import PRESETS, Engines, build_engines, warm_up_blocking

log = logging.getLogger("realtalk")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="realtalk", description="A self-hosted OpenAI Realtime API server.")
    parser.add_argument("--version", action="version", version=f"realtalk {__version__}")
    commands = parser.add_subparsers(dest="command", required=True)
    serve = commands.add_parser("serve", help="run the server (flags override REALTALK_* variables)")
    add_server_flags(serve)
    config = commands.add_parser("config", help="the settings in effect: flags, environment, config file, defaults")
    config_commands = config.add_subparsers(dest="config_command", required=True)
    show = config_commands.add_parser("show", help="print the effective settings as TOML, secrets masked")
    add_server_flags(show)
    bench = commands.add_parser(
        "bench", help="measure latency, capacity, throughput and answer quality; writes JSON, Markdown, PNG"
    )
    bench.add_argument(
        "which", choices=["latency", "capacity", "micro", "soak", "quality", "all"], help="all: but soak and quality"
    )
    bench.add_argument("--out", default="bench/results", help="folder for the results (bench/results)")
    bench.add_argument("--utterances", type=int, default=20, help="spoken questions for latency (20)")
    bench.add_argument(
        "--modes",
        type=names_from(MODES),
        default=",".join(DEFAULT_MODES),
        help=f"latency runs, each on a fresh server: {', '.join(MODES)} (default: all but embedded-nospec)",
    )
    bench.add_argument(
        "--stacks",
        type=names_from(STACKS),
        default=",".join(STACKS),
        help=f"engine presets: latency runs only the modes on these, quality each of them ({','.join(STACKS)})",
    )
    bench.add_argument("--limit", type=positive, help="quality: only the first N items of each part (all)")
    bench.add_argument("--max-sessions", type=int, default=256, help="the most sessions capacity tries (256)")
    bench.add_argument("--levels", type=counts, help="exact session counts for capacity, e.g. 1,4,16 (no search)")
    bench.add_argument(
        "--workers",
        dest="worker_counts",
        type=counts,
        default=[1],
        help="capacity: server worker processes, one search each, e.g. 1,2 (1)",
    )
    bench.add_argument("--clients", type=int, default=20, help="soak: clients, each reconnecting over and over (20)")
    bench.add_argument("--minutes", type=float, default=5.0, help="soak: how long the load lasts (5)")
    bench.add_argument("--warmup-minutes", type=float, default=1.0, help="soak: left out of the RSS slope (1)")
    bench.add_argument("--stack", choices=STACKS, default="scripted", help="soak: the engine preset (scripted)")
    models = commands.add_parser("models", help="list the embedded models: package, version, size, path")
    models.add_argument("--data-dir", help="where assembled model files are kept (REALTALK_DATA_DIR)")
    models.add_argument("--config", help="TOML file of settings (REALTALK_CONFIG)")
    return parser


def add_server_flags(serve: argparse.ArgumentParser) -> None:
    """The server's settings as flags, for `serve` and `config show`."""
    serve.add_argument("--config", help="TOML file of settings, below flags and REALTALK_* variables (REALTALK_CONFIG)")
    serve.add_argument("--host", help="address to bind (REALTALK_HOST, default 127.0.0.1)")
    serve.add_argument("--port", type=int, help="port to bind (REALTALK_PORT, default 8000)")
    serve.add_argument(
        "--api-key",
        action="append",
        dest="api_key",
        metavar="KEY",
        help="accepted API key, repeatable (REALTALK_API_KEY, comma-separated); none = open",
    )
    serve.add_argument("--engines", choices=sorted(PRESETS), help="engine preset (REALTALK_ENGINES, default embedded)")
    serve.add_argument("--llm", help="LLM engine, overriding the preset (REALTALK_LLM)")
    serve.add_argument("--stt", help="speech-to-text engine (REALTALK_STT)")
    serve.add_argument("--tts", help="text-to-speech engine (REALTALK_TTS)")
    serve.add_argument("--vad", help="voice-activity engine (REALTALK_VAD)")
    serve.add_argument("--turn", help="end-of-turn engine, judging pauses for semantic_vad (REALTALK_TURN)")
    serve.add_argument("--script", help="JSON file of turns for the scripted LLM (REALTALK_SCRIPT)")
    serve.add_argument("--transcript", help="what the scripted STT hears (REALTALK_TRANSCRIPT)")
    serve.add_argument("--data-dir", help="where assembled model files are kept (REALTALK_DATA_DIR)")
    serve.add_argument("--threads", type=int, help="CPU threads per model (REALTALK_THREADS, default 2)")
    serve.add_argument("--seed", type=int, help="sampling seed of the embedded LLM, for reproducible answers")
    for kind, what in (("llm", "chat"), ("stt", "transcription"), ("tts", "speech")):
        upper = kind.upper()
        serve.add_argument(
            f"--{kind}-url",
            help=f"base URL of an OpenAI-compatible {what} server, for --{kind} remote (REALTALK_{upper}_URL)",
        )
        serve.add_argument(f"--{kind}-api-key", help=f"its API key (REALTALK_{upper}_API_KEY)")
        serve.add_argument(f"--{kind}-model", help=f"the model it should run (REALTALK_{upper}_MODEL)")
    serve.add_argument(
        "--llm-context-tokens",
        type=int,
        help="tokens one request to the LLM may hold, prompt and answer (remote 8192, embedded 4096)",
    )
    serve.add_argument(
        "--llm-computed-answers",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="the packaged SmolLM2 computes answers to arithmetic, unit and calendar questions (default on)",
    )
    own = serve.add_argument_group("your own model files, read as given (see Bring your own models in the README)")
    own.add_argument("--llm-gguf", help="GGUF chat model for the embedded LLM on llama.cpp (REALTALK_LLM_GGUF)")
    own.add_argument("--llm-chat-template", help="llama.cpp chat template for a GGUF without one: chatml, llama3, …")
    own.add_argument("--llm-gpu-layers", type=int, help="layers on the GPU, -1 = all (GPU builds of xllamacpp only)")
    own.add_argument("--whisper-model", help="CTranslate2 Whisper directory, or a size name already on disk")
    own.add_argument("--whisper-language", help="auto (detect) or a language code; a session's language wins (auto)")
    own.add_argument("--whisper-beam-size", type=int, help="Whisper's beam size (1: greedy, fastest)")
    own.add_argument("--kokoro-model", help="Kokoro ONNX model (REALTALK_KOKORO_MODEL)")
    own.add_argument("--kokoro-voices", help="Kokoro voices file, .npz or .bin (REALTALK_KOKORO_VOICES)")
    own.add_argument("--piper-voice", help="Piper voice .onnx, with its .onnx.json beside it (REALTALK_PIPER_VOICE)")
    serve.add_argument("--tts-voices", help="OpenAI voice → backend voice: alloy=af_bella,echo=am_adam")
    serve.add_argument("--tts-sample-rate", type=int, help="sample rate of the speech server's pcm (24000)")
    serve.add_argument("--remote-connect-timeout", type=float, help="seconds to connect to a backend (5)")
    serve.add_argument("--remote-read-timeout", type=float, help="seconds a backend may stay silent (30)")
    serve.add_argument("--remote-retries", type=int, help="retries when a backend cannot be reached (2)")
    serve.add_argument("--default-model", help="model name when a client names none (REALTALK_DEFAULT_MODEL)")
    serve.add_argument("--instructions", help="default session instructions (REALTALK_INSTRUCTIONS)")
    serve.add_argument(
        "--log-level",
        choices=["debug", "info", "warning", "error"],
        help="log level (REALTALK_LOG_LEVEL, default info)",
    )
    serve.add_argument(
        "--log-format", choices=["text", "json"], help="text lines, or one JSON object per line (REALTALK_LOG_FORMAT)"
    )
    production = serve.add_argument_group("production (see Deploying in the README)")
    production.add_argument(
        "--workers", type=int, help="processes sharing the port, each loading its own engines (REALTALK_WORKERS, 1)"
    )
    production.add_argument(
        "--drain-seconds",
        type=float,
        help="on SIGTERM/SIGINT, how long responses under way may finish (REALTALK_DRAIN_SECONDS, 30)",
    )
    production.add_argument("--tls-cert", help="PEM certificate chain: serve https and wss (REALTALK_TLS_CERT)")
    production.add_argument("--tls-key", help="PEM private key of --tls-cert (REALTALK_TLS_KEY)")
    production.add_argument(
        "--redis-url",
        help="Redis shared by every worker and machine, redis://host:port/db (REALTALK_REDIS_URL; none = one process)",
    )
    serve.add_argument("--max-session-minutes", type=float, help="session length limit (default 30)")
    serve.add_argument("--max-connections", type=int, help="concurrent sessions allowed (default 1000)")
    limits = serve.add_argument_group("caps and timeouts (see Limits in the README)")
    limits.add_argument("--max-event-mb", type=float, help="largest client event, MiB (21: a 15 MiB audio append)")
    limits.add_argument("--max-sessions-per-key", type=int, help="concurrent sessions per API key (default no cap)")
    limits.add_argument(
        "--max-new-sessions-per-minute",
        type=int,
        help="sessions, calls and client secrets one API key may start a minute (default no cap)",
    )
    limits.add_argument("--max-session-audio-mb", type=float, help="audio a session holds, buffered and kept (200)")
    limits.add_argument("--max-conversation-items", type=int, help="items a conversation holds (4096)")
    limits.add_argument("--max-events-per-second", type=float, help="client events a session sends a second (200)")
    limits.add_argument("--event-burst", type=int, help="client events a session may send at once (400)")
    limits.add_argument("--max-body-mb", type=float, help="largest REST request body, MiB (26)")
    limits.add_argument("--body-timeout", type=float, help="seconds a REST request's body may take (60)")
    limits.add_argument("--header-timeout", type=float, help="seconds a request's headers may take (10)")
    limits.add_argument("--max-header-kib", type=float, help="largest request line and headers, KiB (64)")
    limits.add_argument("--keep-alive-timeout", type=int, help="seconds an idle HTTP connection stays open (5)")
    serve.add_argument(
        "--speculate",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="prepare each turn's answer while the silence window runs (REALTALK_SPECULATE, default on)",
    )
    serve.add_argument(
        "--cors-origin",
        action="append",
        dest="cors_origin",
        metavar="ORIGIN",
        help="web origin whose pages may call the API, repeatable (REALTALK_CORS_ORIGIN, default *)",
    )
    serve.add_argument(
        "--ice-server",
        action="append",
        dest="ice_servers",
        metavar="URL",
        help="STUN/TURN server for WebRTC calls, repeatable: stun:host:3478, turn:host:3478 (REALTALK_ICE_SERVERS)",
    )
    serve.add_argument("--ice-username", help="TURN username (REALTALK_ICE_USERNAME)")
    serve.add_argument("--ice-credential", help="TURN password (REALTALK_ICE_CREDENTIAL)")
    serve.add_argument(
        "--webrtc-host-ip",
        action="append",
        dest="webrtc_host_ip",
        metavar="ADDRESS",
        help="offer only this address as a WebRTC host candidate, repeatable (default: every interface)",
    )
    phone = serve.add_argument_group("phone calls (see Phone calls in the README)")
    phone.add_argument("--public-url", help="public base URL carriers reach, https://host (REALTALK_PUBLIC_URL)")
    phone.add_argument("--phone-profiles", help="JSON file: profile name → GA session (REALTALK_PHONE_PROFILES)")
    phone.add_argument("--call-webhook", help="URL told of each phone call, realtime.call.incoming")
    phone.add_argument("--twilio-auth-token", help="checks X-Twilio-Signature (REALTALK_TWILIO_AUTH_TOKEN)")
    phone.add_argument("--telnyx-stream-token", help="the streaming auth token Telnyx streams must present")
    phone.add_argument(
        "--allow-unsigned-phone-streams",
        action="store_true",
        default=None,
        help="accept phone webhooks and streams that no carrier signed: local testing only",
    )
    observe = serve.add_argument_group("observability (see Metrics and Tracing in the README)")
    observe.add_argument(
        "--metrics",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="serve Prometheus metrics at /metrics (REALTALK_METRICS, default on)",
    )
    observe.add_argument(
        "--otlp-endpoint",
        metavar="URL",
        help="send traces of sessions that set `tracing` to this OTLP/HTTP collector (REALTALK_OTLP_ENDPOINT)",
    )


NOT_SETTINGS = {
    "command",
    "config_command",
    "which",
    "out",
    "utterances",
    "modes",
    "stacks",
    "max_sessions",
    "levels",
    "worker_counts",
    "clients",
    "minutes",
    "warmup_minutes",
    "stack",
    "limit",
}


def names_from(choices: Collection[str]) -> Callable[[str], list[str]]:
    """An argparse type: a comma-separated list of names, each one of `choices`."""

    def parse(text: str) -> list[str]:
        names = [name.strip() for name in text.split(",") if name.strip()]
        unknown = [name for name in names if name not in choices]
        if unknown or not names:
            raise argparse.ArgumentTypeError(f"{text!r}: choose from {', '.join(choices)}")
        return names

    return parse


def positive(text: str) -> int:
    """An argparse type: a positive whole number."""
    try:
        number = int(text)
    except ValueError:
        number = 0
    if number < 1:
        raise argparse.ArgumentTypeError(f"{text!r}: expected a positive whole number")
    return number


def counts(text: str) -> list[int]:
    """An argparse type: a comma-separated list of positive whole numbers, e.g. 1,2."""
    return [positive(part.strip()) for part in text.split(",") if part.strip()] or [positive("")]


def flags_given(args: argparse.Namespace) -> dict[str, Any]:
    return {k: v for k, v in vars(args).items() if v is not None and k not in NOT_SETTINGS}


def settings_from(args: argparse.Namespace) -> Settings:
    return Settings(**flags_given(args))


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def serve(settings: Settings) -> None:
    from realtalk.logs import configure_logging

    configure_logging(settings.log_level, settings.log_format, settings.api_key)
    warn_if_open(settings)
    if settings.workers == 1:
        serve_in_this_process(settings)
    else:
        serve_with_workers(settings)


def warn_if_open(settings: Settings) -> None:
    if not settings.api_key and not is_loopback(settings.host):
        log.warning("!" * 78)
        log.warning(
            "realtalk is listening on %s WITHOUT API KEYS: anyone who can reach this address can "
            "use it. Pass --api-key KEY (or set REALTALK_API_KEY).",
            settings.host,
        )
        log.warning("!" * 78)


def server_config(settings: Settings, app: Any, *, factory: bool = False) -> Any:
    """uvicorn's `Config` for `app` (an app, or a factory's import string) as these settings want it served."""
    import uvicorn

    from realtalk.server.drain import LEFTOVER_SECONDS
    from realtalk.server.serving import uvicorn_options

    return uvicorn.Config(
        app,
        factory=factory,
        host=settings.host,
        port=settings.port,
        workers=settings.workers,
        log_level=settings.log_level,
        log_config=None,  # realtalk's handler (`configure_logging`) writes uvicorn's lines too
        ssl_certfile=settings.tls_cert,
        ssl_keyfile=settings.tls_key,
        # the app's drain has closed the sessions before uvicorn's shutdown begins: what is left is cut
        timeout_graceful_shutdown=LEFTOVER_SECONDS,
        **uvicorn_options(settings),
    )


def serve_in_this_process(settings: Settings) -> None:
    import uvicorn

    from realtalk.server.app import create_app

    # SIGTERM ends the process as Ctrl-C does: uvicorn re-raises the signal that stopped it once it has
    # (the app's drain took it first), and a drained server exits with status 0, not killed by it
    before = signal.signal(signal.SIGTERM, signal.default_int_handler)
    try:
        with contextlib.suppress(KeyboardInterrupt):
            engines = load_engines(settings)
            app = create_app(settings, engines=engines, engines_warm=True)
            uvicorn.Server(server_config(settings, app)).run()
    finally:
        signal.signal(signal.SIGTERM, before)


def serve_with_workers(settings: Settings) -> None:
    """`settings.workers` processes on one listening socket, each building its own app and engines."""
    from realtalk.observability.metrics import prepare_workers
    from realtalk.server.worker import WORKER_APP, Supervisor, worker_environment

    if settings.redis_url is None:
        log.warning(
            "%d workers without --redis-url: each keeps its own state, so an ephemeral key works only on the "
            "worker that minted it, and --max-sessions-per-key caps each worker apart",
            settings.workers,
        )
    config = server_config(settings, WORKER_APP, factory=True)
    socket = config.bind_socket()
    os.environ.update(worker_environment(settings))  # spawned workers inherit it; never logged
    prepare_workers(settings.workers)  # one folder of metrics that every worker writes and any answers from
    Supervisor(config, sockets=[socket]).run()


def load_engines(settings: Settings) -> Engines:
    """Load every engine with a progress line each, then warm them up so the first turn is not slow."""
    if settings.log_format == "json":  # stderr goes to a log collector: log lines, not a progress display
        from realtalk.server.worker import loaded_engines

        return loaded_engines(settings)
    console = Console(stderr=True)
    with Progress(
        SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn(), console=console, transient=False
    ) as progress:

        def loading(kind: str, name: str) -> Callable[[float], None]:
            task = progress.add_task(f"loading {kind} engine [bold]{name}[/bold]", total=1)
            return lambda seconds: progress.update(
                task, completed=1, description=f"loaded {kind} engine [bold]{name}[/bold]"
            )

        engines = build_engines(settings.engine_choice(), loading)
        task = progress.add_task("warming up", total=1)
        warm_up_blocking(engines)
        progress.update(task, completed=1, description="warmed up")
    return engines


def list_models(settings: Settings) -> None:
    from realtalk.engines.embedded.catalog import model_infos  # imports onnxruntime: only when asked

    table = Table("engine", "model", "packages", "size on disk", "path")
    for info in model_infos(settings.data_dir):
        table.add_row(*info.row())
    console = Console()
    if not console.is_terminal:  # piped: do not squeeze paths into 80 columns
        console = Console(width=240)
    console.print(table)


def run_benchmarks(args: argparse.Namespace, settings: Settings) -> None:
    try:
        from realtalk.bench import capacity, latency, micro, soak, speech
        from realtalk.bench.quality import runner as quality
    except ImportError as exc:
        sys.exit(f"realtalk bench needs its extra: pip install 'realtalk[bench]' ({exc.name} is missing)")
    out = Path(args.out)
    console = Console()
    which = {"latency", "capacity", "micro"} if args.which == "all" else {args.which}
    try:
        modes = select(args.modes, args.stacks)
    except ValueError as exc:
        sys.exit(f"realtalk bench: {exc}")
    reports = []
    if "quality" in which:
        reports.append(quality.run(args.stacks, out, *quality_voice_and_ear(settings), args.limit))
    if "micro" in which:
        reports.append(micro.run(out))
    if which & {"latency", "capacity"}:
        console.print("synthesizing the spoken questions…")
        utterances = speech.synthesize(max(args.utterances, 3), data_dir=settings.data_dir)
        if "latency" in which:
            reports.append(latency.run(modes, utterances[: args.utterances], out))
        if "capacity" in which:
            reports.append(
                capacity.run(utterances, out, args.max_sessions, levels=args.levels, workers=args.worker_counts)
            )
    if "soak" in which:
        spoken = speech.synthesize(1, data_dir=settings.data_dir)[0].speech if args.stack == "embedded" else None
        soaked = soak.run(
            out,
            clients=args.clients,
            minutes=args.minutes,
            stack=args.stack,
            warmup_minutes=args.warmup_minutes,
            speech=spoken,
        )
        reports.append(soaked)
    for report in reports:
        console.print(f"\n[bold]{report.name}[/bold] → {out}/{report.name}.json, .md, .png")
        console.print((out / f"{report.name}.md").read_text(), soft_wrap=True)  # tables, not prose: never wrap
    if "soak" in which and not soaked.results["passed"]:
        sys.exit("realtalk bench soak: the server's memory kept growing after the warm-up")


def invalid(error: ValidationError) -> str:
    """Each problem on a line of its own, led by the setting it is about."""
    lines = []
    for problem in error.errors():
        where = ".".join(str(part) for part in problem["loc"]) or "settings"
        lines.append(f"  {where}: {problem['msg'].removeprefix('Value error, ')}")
    return "realtalk: invalid configuration:\n" + "\n".join(lines)


def show_config(args: argparse.Namespace, settings: Settings) -> None:
    from realtalk.effective_settings import origins, render

    sys.stdout.write(render(settings, origins(flags_given(args))))


def quality_voice_and_ear(settings: Settings) -> tuple[TTSEngine, STTEngine]:
    """Kokoro says the questions; Whisper base, a larger model than the default stack's own, hears the
    answers back (in English, the language the stacks answer in)."""
    from realtalk.bench.speech import kokoro
    from realtalk.engines.embedded import whisper

    ear = whisper.WhisperSTT(whisper.base_dir(settings.data_dir), settings.threads, language="en")
    return kokoro(settings.data_dir), ear


def main(argv: Sequence[str] | None = None) -> None:
    args = build_parser().parse_args(argv)
    try:
        settings = settings_from(args)
    except ValidationError as exc:
        sys.exit(invalid(exc))
    except ValueError as exc:  # the config file: missing, not TOML, or a key that is no setting
        sys.exit(f"realtalk: {exc}")
    if args.command == "serve":
        try:
            serve(settings)
        except ValueError as exc:  # a model file or profile the engines could not take, named by its setting
            sys.exit(f"realtalk: {exc}")
    elif args.command == "config":
        show_config(args, settings)
    elif args.command == "models":
        list_models(settings)
    elif args.command == "bench":
        run_benchmarks(args, settings)
