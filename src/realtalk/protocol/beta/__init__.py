"""The beta dialect (`OpenAI-Beta: realtime=v1`): the shapes of `openai.types.beta.realtime`, over the neutral core.

A sibling of `protocol.ga`, never importing it; what both wires spell alike is in `protocol.common`.
"""

from realtalk.protocol.beta.dialect import BetaDialect

__all__ = ["BetaDialect"]
