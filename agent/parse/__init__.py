"""Stage 2, parse: bytes of a log file in, :class:`agent.model.Entry` out. Pure: no file,
network or clock access (the clock and the timezone are injected).

Modules: ``lines`` (bytes -> decoded lines with offsets), ``minecraft/`` (a line's prefix,
then its tags and fields), ``multiline`` (continuation lines joined to their entry),
``dates`` (wall times -> UTC), ``reader`` (the whole chain for one stream: feed bytes, get
entries and the checkpoint they complete), ``fingerprint`` (a file's identity by its first
bytes), ``levels`` (log level names), ``patterns`` (the operator's own line patterns,
tried before ``minecraft/``).

May import: agent.model, agent.errors, agent.events, agent.metrics. Nothing above it.
"""
