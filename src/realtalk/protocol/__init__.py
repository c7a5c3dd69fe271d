"""The wire vocabulary: session configuration, items, events, errors, and the dialect codecs.

Nothing here does I/O; everything here is shared by both dialects except the codecs themselves.
"""
