"""onnxruntime sessions as realtalk wants them: bounded threads that do not spin, quiet logs.

(Telemetry is switched off in `realtalk/__init__.py`, before anything can import onnxruntime.)
"""

from __future__ import annotations

from typing import Any, Protocol

import onnxruntime


class InferenceModel(Protocol):
    """What an engine needs of an onnxruntime session: one run of the graph on named inputs.

    Engines take one as an argument, so a caller may share, wrap or count a session.
    """

    def run(self, output_names: list[str] | None, input_feed: dict[str, Any]) -> list[Any]: ...


def cpu_session(path: str, threads: int = 1) -> onnxruntime.InferenceSession:
    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.log_severity_level = 3
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")  # do not burn idle cores
    return onnxruntime.InferenceSession(path, sess_options=options, providers=["CPUExecutionProvider"])
