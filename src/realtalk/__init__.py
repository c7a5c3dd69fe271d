"""realtalk: a self-hosted voice server that speaks the OpenAI Realtime API."""

import os

__version__ = "0.1.0"

# onnxruntime writes a telemetry device id under ~/.cache when it is first imported, by us or by any
# engine package; set before any of them can import it.
os.environ.setdefault("ORT_DISABLE_TELEMETRY", "1")
