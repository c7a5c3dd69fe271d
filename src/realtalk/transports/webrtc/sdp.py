"""`Offer`: a caller's SDP offer, checked before a peer connection is spent on it.

aiortc parses almost anything without complaint (an empty body is a valid description with no media),
so what a call needs is checked here and refused in the protocol's error shape: a well-formed offer,
with an audio section, in a codec realtalk can decode.
"""

from __future__ import annotations

from dataclasses import dataclass

from aiortc.sdp import SessionDescription

from realtalk.protocol.errors import ProtocolError

MAX_OFFER_BYTES = 64 * 1024
SUPPORTED = "opus/48000 (or PCMU/PCMA 8000)"


@dataclass(frozen=True)
class Offer:
    sdp: str
    audio_codecs: tuple[str, ...]  # as offered, e.g. "opus/48000"
    has_data_channel: bool

    @classmethod
    def parse(cls, body: bytes | str) -> Offer:
        raw = body.encode() if isinstance(body, str) else body
        if len(raw) > MAX_OFFER_BYTES:
            raise _invalid(f"The SDP offer is {len(raw)} bytes; at most {MAX_OFFER_BYTES} are accepted.")
        try:
            text = raw.decode()
        except UnicodeDecodeError:
            raise _invalid("The SDP offer is not UTF-8 text.") from None
        if not text.lstrip().startswith("v=0"):
            raise _invalid("The body is not an SDP offer: it must start with 'v=0'.")
        try:
            description = SessionDescription.parse(text)
        except Exception as exc:
            raise _invalid(f"The SDP offer could not be parsed: {exc}.") from None
        audio = [m for m in description.media if m.kind == "audio"]
        if not audio:
            raise _invalid("The SDP offer has no audio section (m=audio): a realtime call needs one.")
        codecs = tuple(f"{c.name}/{c.clockRate}" for m in audio for c in m.rtp.codecs)
        channel = any(m.kind == "application" and m.sctp_port is not None for m in description.media)
        return cls(text, codecs, channel)

    def refusal(self, exc: Exception) -> ProtocolError:
        """Why aiortc could not take this offer, in words a client developer can act on."""
        if "send parameters" in str(exc):
            offered = ", ".join(self.audio_codecs) or "none"
            return ProtocolError(
                f"The SDP offer's audio codecs ({offered}) include none realtalk supports: {SUPPORTED}.",
                code="unsupported_codec",
            )
        return _invalid(f"The SDP offer could not be negotiated: {exc}.")


def _invalid(message: str) -> ProtocolError:
    return ProtocolError(message, code="invalid_sdp")
