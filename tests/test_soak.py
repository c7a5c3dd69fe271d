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

pytestmark = pytest.mark.live

SLOPE_BOUND_MIB_PER_MIN = 15.0


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
