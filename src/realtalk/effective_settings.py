"""`realtalk config show`: the settings in effect, as TOML a config file could hold, secrets masked.

Each line says where its value came from: a flag, an environment variable, the config file or the
default. A setting is secret if its name says so (a key, token, credential, password or secret); a URL
that carries a password (`redis://:PASSWORD@host`) keeps everything but the password.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from pydantic_settings import EnvSettingsSource

from realtalk.config import Settings
from realtalk.config_file import config_path, read_config_file

SECRET_WORDS = ("api_key", "token", "credential", "password", "secret")
MASK = "***"
_BARE_KEY = re.compile(r"^[A-Za-z0-9_-]+$")


def origins(flags: Mapping[str, Any]) -> dict[str, str]:
    """Where each setting's value comes from, by the same precedence `Settings` applies."""
    from_env = EnvSettingsSource(Settings)()
    path = config_path(flags)
    from_file = read_config_file(path, Settings.model_fields) if path is not None else {}
    places = (("flag", flags), ("env", from_env), ("file", from_file))
    return {name: next((at for at, given in places if name in given), "default") for name in Settings.model_fields}


def masked(name: str, value: Any) -> Any:
    if value is None:
        return None
    if any(word in name for word in SECRET_WORDS):
        return [MASK] * len(value) if isinstance(value, list) else MASK
    if isinstance(value, str) and "://" in value:
        return _without_password(value)
    return value


def _without_password(url: str) -> str:
    parts = urlsplit(url)
    if parts.password is None:
        return url
    host = parts.netloc.rsplit("@", 1)[1]
    return urlunsplit(parts._replace(netloc=f"{parts.username or ''}:{MASK}@{host}"))


def render(settings: Settings, origin: Mapping[str, str]) -> str:
    """One line per setting, `name = value  # origin`; a setting with no value is a comment."""
    lines = []
    for name in Settings.model_fields:
        value = masked(name, getattr(settings, name))
        if value is None:
            lines.append(f"# {name} is not set  # {origin[name]}")
        else:
            lines.append(f"{name} = {toml_value(value)}  # {origin[name]}")
    return "\n".join(lines) + "\n"


def toml_value(value: Any) -> str:
    """`value` in TOML: inline arrays and tables, so that every setting stays on its line."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str | Path):
        return _string(str(value))
    if isinstance(value, list | tuple):
        return "[" + ", ".join(toml_value(item) for item in value) + "]"
    if isinstance(value, dict):
        items = [f"{_key(k)} = {toml_value(v)}" for k, v in value.items() if v is not None]
        return "{ " + ", ".join(items) + " }" if items else "{}"
    raise TypeError(f"no TOML form for {type(value).__name__}")


def _key(key: str) -> str:
    return key if _BARE_KEY.match(key) else _string(key)


def _string(text: str) -> str:
    """A TOML basic string: JSON's escapes are TOML's, but for DEL, which TOML wants escaped."""
    return json.dumps(text, ensure_ascii=False).replace("\x7f", "\\u007f")
