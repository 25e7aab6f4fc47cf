"""Stage 1, sources: where log bytes come from, and which files hold them.

Modules: ``files`` (reading one whole file, plain or gzip, into entries: used by
``parse``, ``backfill`` and the tailer's catch-up), ``tail/`` (follow mode: every server's
``latest.log`` through rotation, truncation and restarts).

Sources never store a checkpoint: they hand entries with the checkpoint they complete to a
:class:`agent.sources.tail.sink.Sink`, which commits both at once.

May import: agent.encode, agent.parse and below. Not agent.state (the sink is a protocol).
"""
