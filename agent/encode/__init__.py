"""Entry -> (event_id, API body): what is sent, and whether it is sent. Pure.

Modules: ``body`` (the ``POST /logs`` body and the stable event id), ``filters`` (the
``[filters]`` section and the CLI's query filters: one :class:`EntryFilter`), ``privacy``
(the IP policy: keep, hash, drop), ``encoder`` (count, filter, IP policy, body: the one
encoder shared by ``run``, ``run --dry-run`` and ``backfill``).

May import: agent.parse and below.
"""
