"""Protocol errors: one exception type that carries everything an `error` event or a REST 400 needs."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

M = TypeVar("M", bound=BaseModel)


class ProtocolError(Exception):
    """A request the server refuses; the session (or HTTP request) that raised it carries on unharmed."""

    def __init__(
        self,
        message: str,
        *,
        code: str,
        param: str | None = None,
        type: str = "invalid_request_error",
    ) -> None:
        super().__init__(message)
        self.message = message
        self.code = code
        self.param = param
        self.type = type

    def under(self, prefix: str) -> ProtocolError:
        """The same error, its `param` seen from an enclosing object (`tools` → `session.tools`)."""
        if self.param is None:
            return self
        return ProtocolError(
            self.message.replace(f"'{self.param}'", f"'{prefix}.{self.param}'"),
            code=self.code,
            param=f"{prefix}.{self.param}",
            type=self.type,
        )

    def __repr__(self) -> str:
        return f"ProtocolError({self.code!r}, {self.message!r}, param={self.param!r})"


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


def param_path(loc: Sequence[int | str], prefix: str | None = None) -> str | None:
    """`('tools', 0, 'name')` → `tools[0].name`, the form OpenAI uses in `param`."""
    out = prefix or ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        elif out:
            out += "." + part
        else:
            out = part
    return out or None


def from_validation_error(exc: ValidationError, prefix: str | None = None) -> ProtocolError:
    """Turn pydantic's first complaint into the error code and `param` a client can act on."""
    err = exc.errors(include_url=False)[0]
    loc = [p for p in err["loc"] if not (isinstance(p, str) and ("[" in p or p.startswith("function-")))]
    param = param_path(loc, prefix)
    kind = err["type"]
    shown = param or "request"
    if kind == "missing":
        return ProtocolError(f"Missing required parameter: '{shown}'.", code="missing_required_parameter", param=param)
    if kind == "extra_forbidden":
        return ProtocolError(f"Unknown parameter: '{shown}'.", code="unknown_parameter", param=param)
    given = _short(err.get("input"))
    if kind in _TYPE_ERRORS:
        return ProtocolError(
            f"Invalid type for '{shown}': {err['msg']}, but got {given}.", code="invalid_type", param=param
        )
    msg = err["msg"].removeprefix("Value error, ")
    return ProtocolError(
        f"Invalid value for '{shown}': {given}. {msg}.".replace("..", "."), code="invalid_value", param=param
    )


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def validated(model: type[M], data: Any, prefix: str | None = None) -> M:
    """Validate `data` as `model`, reporting any problem as a ProtocolError whose `param` starts at `prefix`."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise from_validation_error(exc, prefix) from None
    except ProtocolError as exc:
        raise (exc.under(prefix) if prefix else exc) from None
