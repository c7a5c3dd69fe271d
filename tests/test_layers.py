"""The layering rules, read off the source: a leak shows up here before it shows up as a tangle.

Engines and audio are reusable below any protocol; the protocol is pure wire format; the session
is transport-agnostic; the HTTP API serves engines without a realtime session behind it.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

import realtalk

SOURCE = Path(realtalk.__file__).parent

# (modules the rule covers, packages they must not import)
RULES = [
    ("realtalk.engines", ("realtalk.protocol", "realtalk.session", "realtalk.server", "realtalk.transports")),
    ("realtalk.audio", ("realtalk.protocol", "realtalk.session", "realtalk.server", "realtalk.transports")),
    (
        "realtalk.protocol",
        ("realtalk.session", "realtalk.server", "realtalk.transports", "realtalk.engines", "realtalk.audio"),
    ),
    ("realtalk.session", ("realtalk.server", "realtalk.transports", "realtalk.observability")),
    # observability watches sessions from outside (through session.observer) and serves what it saw
    ("realtalk.observability", ("realtalk.session", "realtalk.transports", "realtalk.server.app")),
    ("realtalk.server.openai_api", ("realtalk.session",)),
]


def module_name(path: Path) -> str:
    parts = path.relative_to(SOURCE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imported(path: Path) -> Iterator[str]:
    """Every module an import statement names, at any depth (function-local and TYPE_CHECKING included)."""
    package = module_name(path).split(".")
    if path.name != "__init__.py":
        package = package[:-1]
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = package[: len(package) - node.level + 1] if node.level else []
            origin = ".".join([*base, *([node.module] if node.module else [])])
            yield origin
            yield from (f"{origin}.{alias.name}" for alias in node.names)  # `from realtalk import protocol`


def within(name: str, package: str) -> bool:
    return name == package or name.startswith(package + ".")


@pytest.mark.parametrize(("covered", "forbidden"), RULES, ids=[rule[0] for rule in RULES])
def test_layer_imports_nothing_above_it(covered: str, forbidden: tuple[str, ...]) -> None:
    leaks = sorted(
        f"{module_name(path)} imports {name}"
        for path in SOURCE.rglob("*.py")
        if within(module_name(path), covered)
        for name in set(imported(path))
        if any(within(name, package) for package in forbidden)
    )
    assert not leaks, "\n".join(leaks)


def test_the_rules_see_the_imports() -> None:
    """Guard against a rule passing because the walk finds nothing: the session does use the protocol."""
    assert any(within(name, "realtalk.protocol") for name in imported(SOURCE / "session" / "response.py"))
