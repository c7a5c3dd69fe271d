"""The config file, `--config realtalk.toml` (or `REALTALK_CONFIG`): settings by their own names.

Keys are the settings' names in snake_case, flat at the top level (`port = 8000`, `llm_gguf = "…"`); a
table holds a setting whose value is a table (`[tts_voices]`, and `[profiles.NAME]`, one GA session object
per phone profile). The file ranks below flags and environment variables and above the defaults. A key
that is no setting stops the server with the file and the key named, so a typo is never silently ignored.
"""

from __future__ import annotations

import difflib
import os
import tomllib
from collections.abc import Collection, Mapping
from pathlib import Path
from typing import Any

ENVIRONMENT = "REALTALK_CONFIG"


class ConfigFileError(ValueError):
    """The config file is missing, not TOML, or names a setting that does not exist."""


def config_path(flags: Mapping[str, Any]) -> Path | None:
    """The config file named by `--config`, else by `REALTALK_CONFIG`, if any."""
    given = flags.get("config") or os.environ.get(ENVIRONMENT)
    return Path(given) if given else None


def read_config_file(path: Path, settings: Collection[str]) -> dict[str, Any]:
    """The file's settings, each checked to be one of `settings` (its value is checked with the rest)."""
    try:
        values = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigFileError(f"config file {path}: cannot be read ({exc.strerror})") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigFileError(f"config file {path}: not valid TOML: {exc}") from None
    for key in values:
        if key == "config":
            raise ConfigFileError(f"config file {path}: 'config' cannot be set in a config file")
        if key not in settings:
            close = difflib.get_close_matches(key, list(settings), n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            raise ConfigFileError(f"config file {path}: unknown setting {key!r}{hint}")
    return values
