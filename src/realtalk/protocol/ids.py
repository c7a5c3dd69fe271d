"""Identifiers in the shape OpenAI uses (`prefix_` + 21 base-62 characters)."""

import secrets
import string

_ALPHABET = string.ascii_letters + string.digits


def new_id(prefix: str, length: int = 21) -> str:
    """A random id such as `item_AthMesa5kAl4QYCFSoTUg`; unguessable, so safe to use as a handle."""
    return prefix + "_" + "".join(secrets.choice(_ALPHABET) for _ in range(length))


def event_id() -> str:
    return new_id("event")


def item_id() -> str:
    return new_id("item")


def response_id() -> str:
    return new_id("resp")


def call_id() -> str:
    return new_id("call")


def rtc_call_id() -> str:
    """A WebRTC call (`/v1/realtime/calls`), as OpenAI names them; not a function call's `call_id`."""
    return new_id("rtc")


def session_id() -> str:
    return new_id("sess")


def conversation_id() -> str:
    return new_id("conv")


def ephemeral_key() -> str:
    """Client secrets carry 192 bits of randomness behind the documented `ek_` prefix."""
    return "ek_" + secrets.token_hex(24)
