"""A short soak in CI: a scripted server under a minute and a half of sessions that talk and hang up keeps its
memory flat and gives back every task and file descriptor (`realtalk bench soak`, scaled down).

The bounds are generous, as the machine running the tests may be busy: a leak of the kind the soak exists for
(hundreds of MiB a minute) fails them many times over; allocator noise over a minute does not.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from realtalk.bench import soak

SLOPE_BOUND_MIB_PER_MIN = 15.0


def at(seconds: float, rss_mib: float) -> soak.Sample:
    return soak.Sample(seconds, rss_mib, fds=15, tasks=3, threads=6, sessions=1)


def test_the_slope_is_fitted_to_the_samples_after_the_warm_up_only() -> None:
    warm_up = [at(0, 100), at(30, 180), at(60, 150)]  # caches and arenas filling: left out
    after = [at(60 + 30 * i, 150 + 0.5 * i) for i in range(1, 11)]  # half a MiB every 30 s
    assert soak.rss_slope(warm_up + after, after_seconds=61) == pytest.approx(1.0, abs=1e-9)
    with pytest.raises(ValueError, match="at least two samples"):
        soak.rss_slope(warm_up, after_seconds=61)


@pytest.mark.live
@pytest.mark.timeout(300)
def test_a_short_soak_holds_memory_flat_and_gives_back_every_task_and_descriptor(tmp_path: Path) -> None:
    soak.run(tmp_path, clients=4, minutes=1.5, warmup_minutes=0.5, sample_seconds=2.0)
    data = json.loads((tmp_path / "soak_scripted.json").read_text())
    tally, before, after = data["tally"], data["idle_before"], data["idle_after"]
    assert tally["sessions"] >= 20 and tally["turns"] >= 3 * tally["sessions"] // 2
    assert tally["audio_turns"] > 0 and tally["barge_ins"] > 0 and tally["dropped"] > 0
    assert tally["failures"] == 0
    assert data["slope_mib_per_min"] < SLOPE_BOUND_MIB_PER_MIN
    assert after["sessions"] == 0
    assert after["tasks"] == before["tasks"]
    assert after["fds"] == before["fds"]
    assert (tmp_path / "soak_scripted.png").stat().st_size > 0
    assert "| scripted | 4 | 1.5 |" in (tmp_path / "soak_scripted.md").read_text()
