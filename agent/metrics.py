"""Every metric the agent exports, defined in one place (STYLE.md habit 9).

Components receive a :class:`Metrics` and update it; nothing else creates metrics. Code
that needs a figure back (the daemon's last success, a backfill's totals) reads it with
:meth:`Metrics.total` or :meth:`Metrics.by_label`, passing the metric object itself: no
metric name is spelt outside this file. The registry is private to the instance (not
prometheus_client's global one) so tests and several pipelines in one process do not
collide. The HTTP endpoint is optional and binds to 127.0.0.1 by default: metrics name
servers and players' activity.
"""

from __future__ import annotations

from collections import defaultdict

from prometheus_client import CollectorRegistry, Counter, Gauge, start_http_server

from agent.errors import AgentError

PREFIX = "serverops_agent"


class Metrics:
    """The agent's counters and gauges."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        r = self.registry
        self.lines_read = Counter(
            f"{PREFIX}_lines_read", "Log lines read", ["server_id"], registry=r
        )
        self.lines_truncated = Counter(
            f"{PREFIX}_lines_truncated", "Lines cut at max_line_bytes", ["server_id"], registry=r
        )
        self.lines_not_utf8 = Counter(
            f"{PREFIX}_lines_not_utf8",
            "Lines decoded with the fallback encoding or replacement characters",
            ["server_id", "decoding"],
            registry=r,
        )
        self.entries = Counter(
            f"{PREFIX}_entries", "Entries parsed, by tag", ["server_id", "tag"], registry=r
        )
        self.entries_filtered = Counter(
            f"{PREFIX}_entries_filtered", "Entries not sent by decision", ["reason"], registry=r
        )
        self.entries_spooled = Counter(
            f"{PREFIX}_entries_spooled", "Entries written to the spool", registry=r
        )
        self.entries_sent = Counter(
            f"{PREFIX}_entries_sent", "Entries accepted by the API", registry=r
        )
        self.entries_retried = Counter(
            f"{PREFIX}_entries_retried", "Requests retried after a transient error", registry=r
        )
        self.entries_dead_lettered = Counter(
            f"{PREFIX}_entries_dead_lettered", "Entries the API refused for good", registry=r
        )
        self.http_responses = Counter(
            f"{PREFIX}_http_responses", "API responses by HTTP status", ["status"], registry=r
        )
        self.spool_depth = Gauge(
            f"{PREFIX}_spool_entries", "Entries waiting in the spool", registry=r
        )
        self.spool_bytes = Gauge(f"{PREFIX}_spool_bytes", "Bytes held by the spool", registry=r)
        self.spool_full = Gauge(
            f"{PREFIX}_spool_full", "1 while the spool is full and reading paused", registry=r
        )
        self.sending_paused = Gauge(
            f"{PREFIX}_sending_paused",
            "1 while sending is paused, by reason (unauthorized, forbidden, quota)",
            ["reason"],
            registry=r,
        )
        self.last_success = Gauge(
            f"{PREFIX}_last_success_timestamp_seconds",
            "Unix time of the last entry the API accepted",
            registry=r,
        )
        # field hardening (issue 10)
        self.ship_unexpected_errors = Counter(
            f"{PREFIX}_ship_unexpected_errors",
            "Unexpected exceptions contained in the uploader, by component",
            ["component"],
            registry=r,
        )
        self.ship_timeout_seconds = Gauge(
            f"{PREFIX}_ship_timeout_seconds", "The adaptive request timeout now", registry=r
        )
        self.ship_concurrency = Gauge(
            f"{PREFIX}_ship_concurrency", "The adaptive concurrency limit now", registry=r
        )
        # -- per server (issue 12): lines_read and entries are per server too; every series
        # labelled server_id is dropped by forget_server() when a server is released.
        self.server_entries_spooled = Counter(
            f"{PREFIX}_server_entries_spooled",
            "Entries written to the spool, per server",
            ["server_id"],
            registry=r,
        )
        self.server_lag_bytes = Gauge(
            f"{PREFIX}_server_lag_bytes",
            "Bytes of the server's live log file not read yet",
            ["server_id"],
            registry=r,
        )
        self.servers_followed = Gauge(
            f"{PREFIX}_servers_followed", "Servers followed (found by globs included)", registry=r
        )

    def total(self, metric: Counter | Gauge) -> float:
        """The current value of one of these metrics, summed over its label values."""
        return sum(self._values(metric).values())

    def by_label(self, metric: Counter | Gauge, label: str) -> dict[str, float]:
        """The current value of one of these metrics per value of ``label`` (others summed)."""
        totals: dict[str, float] = defaultdict(float)
        for labels, value in self._values(metric).items():
            totals[dict(labels)[label]] += value
        return dict(totals)

    def _values(self, metric: Counter | Gauge) -> dict[tuple[tuple[str, str], ...], float]:
        """Value per label set, read through prometheus_client's public collect()."""
        if not any(metric is mine for mine in vars(self).values()):
            raise ValueError("not a metric of this Metrics instance")
        values: dict[tuple[tuple[str, str], ...], float] = {}
        for family in metric.collect():
            # A counter's value sample is <name>_total (beside <name>_created); a gauge's
            # is <name>.
            for sample in family.samples:
                if sample.name in (family.name, f"{family.name}_total"):
                    values[tuple(sorted(sample.labels.items()))] = sample.value
        return values

    def forget_server(self, server_id: str) -> None:
        """Drop every series of a released server, so the cardinality follows the servers."""
        for metric in vars(self).values():
            if not isinstance(metric, Counter | Gauge):
                continue
            label_sets = {
                tuple(sample.labels.values())  # in the metric's label order, as remove() wants
                for family in metric.collect()
                for sample in family.samples
                if sample.labels.get("server_id") == server_id
            }
            for values in label_sets:
                metric.remove(*values)

    def serve(self, address: str, port: int) -> None:
        """Expose /metrics over HTTP on address:port (a daemon thread)."""
        try:
            start_http_server(port, addr=address, registry=self.registry)
        except OSError as exc:
            raise AgentError(f"metrics: cannot listen on {address}:{port}: {exc.strerror}") from exc
