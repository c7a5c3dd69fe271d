"""`BetaDialect`: beta's codec behind the `Dialect` interface, chosen per connection."""

from __future__ import annotations

from realtalk.protocol.beta.decode import DECODERS
from realtalk.protocol.beta.encode import ENCODERS
from realtalk.protocol.beta.params import param
from realtalk.protocol.beta.session import shown
from realtalk.protocol.common import Codec


class BetaDialect(Codec):
    def __init__(self) -> None:
        super().__init__("beta", DECODERS, ENCODERS, param, shown)
