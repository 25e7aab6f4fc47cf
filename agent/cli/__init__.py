"""The command line, ``serverops-agent``: one module per command.

Each module only parses arguments, calls into agent.app or agent.backfill, and turns
errors into exit codes (0 ok, 1 runtime failure, 2 usage or configuration error). The
entry point is :func:`agent.cli.main.main`.

May import: everything below it.
"""
