"""Adapters between a wire and a `RealtimeSession`: read client events, write server events."""
