"""`GADialect`: GA's codec behind the `Dialect` interface, chosen per connection."""

from __future__ import annotations

from typing import Any

from realtalk.protocol import client_events as ce
from realtalk.protocol.common import Codec
from realtalk.protocol.ga.decode import DECODERS, refuse_beta_events
from realtalk.protocol.ga.encode import ENCODERS
from realtalk.protocol.ga.params import param
from realtalk.protocol.ga.session import session_object


class GADialect(Codec):
    def __init__(self) -> None:
        super().__init__("ga", DECODERS, ENCODERS, param, session_object)

    def decode(self, data: dict[str, Any]) -> ce.ClientEvent:
        refuse_beta_events(data)
        return super().decode(data)
