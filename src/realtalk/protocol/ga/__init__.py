"""The GA dialect (no `OpenAI-Beta` header): the shapes of `openai.types.realtime`, over the neutral core.

A sibling of `protocol.beta`, never importing it; what both wires spell alike is in `protocol.common`.
"""

from realtalk.protocol.ga.dialect import GADialect

__all__ = ["GADialect"]
