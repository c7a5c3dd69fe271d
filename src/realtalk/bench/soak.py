"""Memory under sustained load: clients that keep opening sessions, talking and hanging up, for minutes, against
a server in its own process. The server's resident memory, open file descriptors, event-loop tasks and threads
are sampled every few seconds; after a warm-up, a server that keeps nothing of closed sessions holds its
memory flat, so the least-squares slope of its RSS must stay under `SLOPE_LIMIT_MIB_PER_MIN`.

Each client does, over and over: open a session, a few turns drawn at random (a text turn, a spoken turn, a
barge-in: speech sent while the answer streams, which cancels it), then close; one session in five is left
by dropping the connection while an answer is under way, as a client that vanishes does.
"""

from __future__ import annotations

import asyncio
import json
import random
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

import httpx
import numpy as np
from websockets.asyncio.client import ClientConnection
from websockets.exceptions import ConnectionClosed

from realtalk.bench import client
from realtalk.bench.report import Report, Table, plot_lines
from realtalk.bench.server import ServerProcess, serve
from realtalk.engines.base import Samples

SLOPE_LIMIT_MIB_PER_MIN = 1.0
SAMPLE_SECONDS = 5.0
TURN_SECONDS = 120.0  # a turn not answered by then counts as failed, and its session is dropped
TURNS_PER_SESSION = (2, 6)
DROP_EVERY = 5  # one session in this many vanishes mid-answer instead of closing
CHUNK_MS = 100
MAX_OUTPUT_TOKENS = 40  # short answers: the soak is about many turns, not long ones
STACK_ARGS = {
    "scripted": ["--engines", "scripted"],
    "embedded": ["--engines", "embedded", "--seed", "7"],
}
SESSION = {
    "output_modalities": ["audio"],
    "audio": {
        "input": {
            "turn_detection": {"type": "server_vad", "silence_duration_ms": 500},
            "transcription": {"model": "whisper-1"},
        }
    },
    "max_output_tokens": MAX_OUTPUT_TOKENS,
}
QUESTIONS = ("What is the capital of France?", "Tell me a story about a cat.", "How far away is the moon?")


@dataclass(frozen=True)
class Sample:
    """The server at one moment, `seconds` after the load started."""

    seconds: float
    rss_mib: float
    fds: int
    tasks: int
    threads: int
    sessions: int


@dataclass
class Tally:
    """What the clients did."""

    sessions: int = 0
    text_turns: int = 0
    audio_turns: int = 0
    barge_ins: int = 0
    cancelled: int = 0  # answers the server cancelled (a barge-in that came in time)
    dropped: int = 0  # sessions left by dropping the connection mid-answer
    failures: int = 0  # turns not answered in time, or connections refused or lost

    @property
    def turns(self) -> int:
        return self.text_turns + self.audio_turns + self.barge_ins


@dataclass
class Soak:
    """One soak's measurements and their verdict."""

    stack: str
    clients: int
    minutes: float
    warmup_minutes: float
    tally: Tally
    samples: list[Sample]
    idle_before: Sample
    idle_after: Sample  # once every client has gone
    slope_mib_per_min: float = field(init=False)

    def __post_init__(self) -> None:
        self.slope_mib_per_min = rss_slope(self.samples, self.warmup_minutes * 60)

    @property
    def passed(self) -> bool:
        return self.slope_mib_per_min < SLOPE_LIMIT_MIB_PER_MIN

    def measured(self) -> list[Sample]:
        """The samples after the warm-up, which the verdict is about."""
        return [s for s in self.samples if s.seconds >= self.warmup_minutes * 60]


def rss_slope(samples: Sequence[Sample], after_seconds: float) -> float:
    """The least-squares slope of RSS over the samples from `after_seconds` on, in MiB per minute."""
    kept = [s for s in samples if s.seconds >= after_seconds]
    if len(kept) < 2:
        raise ValueError("a slope needs at least two samples after the warm-up: run longer")
    minutes = np.array([s.seconds / 60 for s in kept])
    rss = np.array([s.rss_mib for s in kept])
    return float(np.polyfit(minutes, rss, 1)[0])


def speech_events(speech: Samples) -> list[str]:
    """A spoken turn as append events: a little silence, the speech, then silence enough to end the turn."""
    audio = np.concatenate([client.silence(200), speech, client.silence(900)])
    return client.frames(audio, CHUNK_MS)


def tone(seconds: float = 0.8, hz: float = 300.0) -> Samples:
    """What the scripted stack hears as speech: its VAD goes by loudness."""
    t = np.arange(int(client.RATE * seconds)) / client.RATE
    return (0.3 * 32767 * np.sin(2 * np.pi * hz * t)).astype(np.int16)


async def sample(server: ServerProcess, http: httpx.AsyncClient, started: float) -> Sample:
    health = (await http.get(server.base + "/healthz")).json()
    process = server.process
    return Sample(
        round(time.perf_counter() - started, 2),
        process.memory_info().rss / 2**20,
        process.num_fds(),
        int(health["tasks"]),
        process.num_threads(),
        int(health["sessions"]),
    )


async def watch(server: ServerProcess, started: float, until: float, every: float, into: list[Sample]) -> None:
    async with httpx.AsyncClient(timeout=30) as http:
        while time.perf_counter() < until:
            into.append(await sample(server, http, started))
            await asyncio.sleep(every)


async def idle(server: ServerProcess, started: float, settle_seconds: float = 30.0) -> Sample:
    """The server once its sessions are gone (it closes a session soon after its client leaves)."""
    async with httpx.AsyncClient(timeout=30) as http:
        deadline = time.perf_counter() + settle_seconds
        now = await sample(server, http, started)
        while now.sessions and time.perf_counter() < deadline:
            await asyncio.sleep(0.5)
            now = await sample(server, http, started)
        return now


async def answered(connection: ClientConnection, after: str | None = None) -> str:
    """Read until the next `response.done` (after the event `after`, if given); its status."""
    waiting_for = after
    async for message in connection:
        event = json.loads(message)
        if event["type"] == waiting_for:
            waiting_for = None
        elif event["type"] == "response.done" and waiting_for is None:
            return str(event["response"]["status"])
        elif event["type"] == "error":
            raise RuntimeError(event["error"]["message"])
    raise ConnectionError("the server closed the session")


async def text_turn(connection: ClientConnection, rng: random.Random) -> None:
    item = {"type": "message", "role": "user", "content": [{"type": "input_text", "text": rng.choice(QUESTIONS)}]}
    await connection.send(json.dumps({"type": "conversation.item.create", "item": item}))
    await connection.send(json.dumps({"type": "response.create"}))


async def send_all(connection: ClientConnection, events: list[str]) -> None:
    for event in events:
        await connection.send(event)


async def session(url: str, spoken: list[str], rng: random.Random, tally: Tally, until: float) -> None:
    """One session: a few turns, then a close, or (one in DROP_EVERY) a connection dropped mid-answer."""
    connection = await client.open_session(url, SESSION)
    tally.sessions += 1
    try:
        for _ in range(rng.randint(*TURNS_PER_SESSION)):
            if time.perf_counter() >= until:
                break
            kind = rng.choice(("text", "audio", "barge_in"))
            async with asyncio.timeout(TURN_SECONDS):
                if kind == "text":
                    await text_turn(connection, rng)
                    await answered(connection)
                    tally.text_turns += 1
                elif kind == "audio":
                    await send_all(connection, spoken)
                    await answered(connection, after="input_audio_buffer.committed")
                    tally.audio_turns += 1
                else:
                    await text_turn(connection, rng)
                    await _first_audio(connection)
                    await send_all(connection, spoken)  # the voice interrupts the answer
                    tally.cancelled += await _cancelled_before_commit(connection)
                    await answered(connection)
                    tally.barge_ins += 1
        if rng.randrange(DROP_EVERY) == 0:
            await text_turn(connection, rng)
            connection.transport.abort()  # no close handshake: the client just vanishes
            tally.dropped += 1
    finally:
        await connection.close()


async def _first_audio(connection: ClientConnection) -> None:
    async for message in connection:
        kind = json.loads(message)["type"]
        if kind in ("response.output_audio.delta", "response.done"):
            return


async def _cancelled_before_commit(connection: ClientConnection) -> int:
    """Read up to the interrupting turn's commit; 1 if the answer it interrupted ended cancelled."""
    cancelled = 0
    async for message in connection:
        event = json.loads(message)
        if event["type"] == "response.done" and event["response"]["status"] == "cancelled":
            cancelled = 1
        if event["type"] == "input_audio_buffer.committed":
            return cancelled
    raise ConnectionError("the server closed the session")


async def client_loop(url: str, spoken: list[str], until: float, seed: int, tally: Tally) -> None:
    rng = random.Random(seed)
    await asyncio.sleep(rng.uniform(0, 2))  # the clients do not all arrive in the same instant
    while time.perf_counter() < until:
        try:
            await session(url, spoken, rng, tally, until)
        except (TimeoutError, ConnectionError, ConnectionClosed, RuntimeError, OSError):
            tally.failures += 1
            await asyncio.sleep(1)


async def load(
    server: ServerProcess, clients: int, seconds: float, spoken: list[str], every: float
) -> tuple[Tally, list[Sample], Sample, Sample]:
    started = time.perf_counter()
    before = await idle(server, started)
    until = started + seconds
    tally, samples = Tally(), list[Sample]()
    watcher = asyncio.create_task(watch(server, started, until, every, samples))
    await asyncio.gather(*(client_loop(server.url, spoken, until, seed, tally) for seed in range(clients)))
    await watcher
    after = await idle(server, started)
    return tally, samples, before, after


def run(
    out: Path,
    *,
    clients: int = 20,
    minutes: float = 5.0,
    stack: str = "scripted",
    warmup_minutes: float = 1.0,
    speech: Samples | None = None,
    sample_seconds: float = SAMPLE_SECONDS,
) -> Report:
    """Soak a fresh server of `stack`; `speech` is what spoken turns say (the scripted stack takes a tone)."""
    if warmup_minutes >= minutes:
        raise ValueError("the warm-up must end before the soak does")
    spoken = speech_events(speech if speech is not None else tone())
    with serve(*STACK_ARGS[stack], "--max-connections", str(clients * 4)) as server:
        tally, samples, before, after = asyncio.run(load(server, clients, minutes * 60, spoken, sample_seconds))
    return report(Soak(stack, clients, minutes, warmup_minutes, tally, samples, before, after), out)


def report(soak: Soak, out: Path) -> Report:
    """`soak.json`, `soak.md` and `soak.png` (named after the stack, so each stack keeps its own)."""
    measured = soak.measured()
    first, last = measured[0], measured[-1]
    name = f"soak_{soak.stack}"
    result = Report(name, out)
    header = ["stack", "clients", "minutes", "sessions", "turns", "barge-ins", "failures"]
    header += ["RSS after warm-up (MiB)", "RSS at end (MiB)", "RSS slope (MiB/min)", "verdict"]
    tally = soak.tally
    row = [soak.stack, str(soak.clients), f"{soak.minutes:g}", str(tally.sessions), str(tally.turns)]
    row += [str(tally.barge_ins), str(tally.failures), f"{first.rss_mib:.0f}", f"{last.rss_mib:.0f}"]
    row += [f"{soak.slope_mib_per_min:+.2f}", f"{'pass' if soak.passed else 'FAIL'} (< {SLOPE_LIMIT_MIB_PER_MIN:g})"]
    result.tables.append(Table(header, [row]))
    resources = ["", "RSS (MiB)", "open FDs", "asyncio tasks", "threads", "sessions"]
    result.tables.append(
        Table(
            resources,
            [
                ["idle before", *_resources(soak.idle_before)],
                ["after warm-up", *_resources(first)],
                ["end of load", *_resources(last)],
                ["idle after", *_resources(soak.idle_after)],
            ],
        )
    )
    result.results = {
        "stack": soak.stack,
        "clients": soak.clients,
        "minutes": soak.minutes,
        "warmup_minutes": soak.warmup_minutes,
        "tally": {**asdict(tally), "turns": tally.turns},
        "slope_mib_per_min": soak.slope_mib_per_min,
        "slope_limit_mib_per_min": SLOPE_LIMIT_MIB_PER_MIN,
        "passed": soak.passed,
        "idle_before": asdict(soak.idle_before),
        "idle_after": asdict(soak.idle_after),
        "samples": [asdict(s) for s in soak.samples],
    }
    result.write()
    minutes = [s.seconds / 60 for s in soak.samples]
    fit = np.polyval(np.polyfit([s.seconds / 60 for s in measured], [s.rss_mib for s in measured], 1), minutes)
    plot_lines(
        minutes,
        {"server RSS (MiB)": [s.rss_mib for s in soak.samples], "fit after warm-up": list(fit)},
        f"{soak.stack}: {soak.clients} clients, RSS slope {soak.slope_mib_per_min:+.2f} MiB/min",
        "minutes",
        "MiB",
        out / f"{name}.png",
        marker=None,
    )
    return result


def _resources(at: Sample) -> list[str]:
    return [f"{at.rss_mib:.0f}", str(at.fds), str(at.tasks), str(at.threads), str(at.sessions)]
