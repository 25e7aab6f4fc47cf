"""The application: configuration, and the long-running and diagnostic commands built
from the stages.

Modules: ``config`` (TOML + ``SERVEROPS_*`` environment, parsed once), ``servers_config``
(its ``[[servers]]`` tables), ``apitoken`` (where the token is read from), ``wiring`` (config
sections -> components), ``daemon`` (``run``: signals, reload, shutdown, watchdog),
``status`` and ``check`` (the diagnostic commands), ``logsetup`` (the agent's own logs),
``notify`` (systemd ``sd_notify``).

May import: every stage and agent.backfill. Not agent.cli.
"""
