"""Protocol errors: one exception type that carries everything an `error` event or a REST 400 needs.

An error raised by a codec names the offending parameter in its own dialect (`param`). An error raised
by the neutral core names it by a field path in the core's vocabulary (`path`, e.g.
`("session", "input", "turn_detection", "threshold")`); each codec renders that path in its own names
when the error goes out, so GA says `session.audio.input.turn_detection.threshold` and beta says
`session.turn_detection.threshold`. Messages quote the parameter as `{param}`, filled in then.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

M = TypeVar("M", bound=BaseModel)
FieldPath = tuple[str | int, ...]
PARAM = "{param}"


class ProtocolError(Exception):
    """A request the server refuses; the session (or HTTP request) that raised it carries on unharmed."""

    def __init__(
        self,
        message: str,
        *,
        code: str,
        param: str | None = None,
        path: FieldPath | None = None,
        type: str = "invalid_request_error",
    ) -> None:
        super().__init__(message)
        self.message = message
        self.code = code
        self.param = param
        self.path = path
        self.type = type

    def under(self, *prefix: str | int) -> ProtocolError:
        """The same error seen from an enclosing object (`("tools", 0)` → `("session", "tools", 0)`)."""
        if self.path is None:
            return self
        return ProtocolError(self.message, code=self.code, path=(*prefix, *self.path), type=self.type)

    def rendered(self, name: Callable[[FieldPath], str] | None = None) -> tuple[str, str | None]:
        """(message, param) with the parameter named by `name` (default: the core's own names)."""
        param = self.param if self.path is None else (name or path_name)(self.path)
        return self.message.replace(PARAM, f"'{param or 'request'}'"), param

    def __repr__(self) -> str:
        return f"ProtocolError({self.code!r}, {self.message!r}, param={self.param!r}, path={self.path!r})"


def path_name(path: Sequence[str | int]) -> str:
    """`('tools', 0, 'name')` → `tools[0].name`, the form OpenAI uses in `param`."""
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        elif out:
            out += "." + part
        else:
            out = part
    return out


_TYPE_ERRORS = {
    "int_type",
    "int_parsing",
    "float_type",
    "float_parsing",
    "string_type",
    "bool_type",
    "dict_type",
    "list_type",
    "model_type",
    "model_attributes_type",
    "is_instance_of",
    "int_from_float",
}


def from_validation_error(exc: ValidationError, prefix: FieldPath = ()) -> ProtocolError:
    """Turn pydantic's first complaint into the error code and field path a client can act on."""
    err = exc.errors(include_url=False)[0]
    loc = [p for p in err["loc"] if not (isinstance(p, str) and ("[" in p or p.startswith("function-")))]
    path: FieldPath = (*prefix, *loc)
    kind = err["type"]
    if kind == "missing":
        return ProtocolError(f"Missing required parameter: {PARAM}.", code="missing_required_parameter", path=path)
    if kind == "extra_forbidden":
        return ProtocolError(f"Unknown parameter: {PARAM}.", code="unknown_parameter", path=path)
    given = short_repr(err.get("input"))
    if kind in _TYPE_ERRORS:
        return ProtocolError(
            f"Invalid type for {PARAM}: {err['msg']}, but got {given}.", code="invalid_type", path=path
        )
    msg = err["msg"].removeprefix("Value error, ")
    return ProtocolError(
        f"Invalid value for {PARAM}: {given}. {msg}.".replace("..", "."), code="invalid_value", path=path
    )


def short_repr(value: Any) -> str:
    try:
        text = repr(value)
    except RecursionError:  # JSON nested deeper than repr follows (the parsers allow 1024 levels)
        return f"a {type(value).__name__} nested too deeply to show"
    return text if len(text) <= 80 else text[:77] + "..."


def validated(model: type[M], data: Any, prefix: FieldPath = ()) -> M:
    """Validate `data` as `model`, reporting any problem as a ProtocolError whose path starts at `prefix`."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise from_validation_error(exc, prefix) from None
    except ProtocolError as exc:
        raise exc.under(*prefix) from None
