"""Stage 1, sources: where log bytes come from, and which files hold them.

Modules: ``files`` (the one reader of a whole file, plain or gzip, into entries: used by
``parse``, ``backfill`` and the tailer's catch-up), ``logfiles`` (Minecraft's log-file
names: which are rolled files, their dates and order; pure), ``globs`` (a ``log`` glob and
its ``id`` template: which servers a ``[[servers]]`` table stands for), ``tail/`` (follow
mode: every server's ``latest.log`` through rotation, truncation and restarts).

Sources never store a checkpoint: they hand entries with the checkpoint they complete to a
:class:`agent.sources.tail.sink.Sink`, which commits both at once.

May import: agent.encode, agent.parse and below. Not agent.state (the sink is a protocol).
"""
