"""Audio formats of the protocol, G.711 codecs and streaming resampling; no knowledge of events."""
