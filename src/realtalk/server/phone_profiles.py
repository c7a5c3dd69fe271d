"""Phone profiles: the session a phone call gets, chosen by the `profile` custom parameter of its stream.

`--phone-profiles FILE` is a JSON object, profile name → a GA session object (as `client_secrets` and
the `/v1/realtime/calls` form take it: instructions, voice, tools, turn detection, …), each applied over
the phone defaults: the server's defaults with G.711 μ-law in and out, the line's own format. A call
that names no profile gets the phone defaults; one that names an unknown profile is refused. The file
is checked whole when the server starts, so a mistake stops it then, not on a caller's line. Profiles can
also be `[profiles.NAME]` tables of the config file; a name must not be in both.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson

from realtalk.config import Settings
from realtalk.protocol.config import SessionConfig
from realtalk.protocol.errors import ProtocolError
from realtalk.protocol.ga import rest as ga_rest
from realtalk.server.session_defaults import session_defaults

ULAW = {"type": "audio/pcmu"}
PHONE_AUDIO = {"type": "realtime", "audio": {"input": {"format": ULAW}, "output": {"format": ULAW}}}


class UnknownProfile(LookupError):
    pass


class PhoneProfiles:
    def __init__(self, settings: Settings) -> None:
        self.default = ga_rest.call_session(PHONE_AUDIO, session_defaults(settings))
        self._named = _checked(settings.profiles, self.default, "profiles")
        if settings.phone_profiles is not None:
            from_file = _load(settings.phone_profiles, self.default)
            if both := sorted(from_file.keys() & self._named.keys()):
                raise ValueError(f"--phone-profiles {settings.phone_profiles}: profile {both[0]!r} is also in profiles")
            self._named |= from_file

    def config(self, name: str | None) -> SessionConfig:
        """The session of profile `name` (the phone defaults for None); `UnknownProfile` if there is none such."""
        if name is None:
            return self.default
        try:
            return self._named[name]
        except KeyError:
            raise UnknownProfile(f"no phone profile named {name[:60]!r}") from None

    def __contains__(self, name: str) -> bool:
        return name in self._named


def _load(path: Path, defaults: SessionConfig) -> dict[str, SessionConfig]:
    """Every profile of the file, checked as GA checks a session; a bad one raises `ValueError` naming it."""
    try:
        profiles = orjson.loads(path.read_bytes())
    except (OSError, orjson.JSONDecodeError) as exc:
        raise ValueError(f"--phone-profiles {path}: {exc}") from None
    if not isinstance(profiles, dict):
        raise ValueError(f"--phone-profiles {path}: expected a JSON object of profile name → GA session object")
    return _checked(profiles, defaults, f"--phone-profiles {path}")


def _checked(profiles: dict[str, Any], defaults: SessionConfig, source: str) -> dict[str, SessionConfig]:
    named = {}
    for name, session in profiles.items():
        try:
            named[name] = ga_rest.call_session(session, defaults)
        except ProtocolError as exc:
            message, param = exc.rendered(ga_rest.param)
            raise ValueError(f"{source}: profile {name!r}: {message} ({param})") from None
    return named
