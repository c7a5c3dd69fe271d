"""One connection's state machine: conversation, input audio, turn taking and responses.

Transport-agnostic: it takes client events and emits server events through one outbox.
"""
