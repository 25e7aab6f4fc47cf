"""The Prometheus endpoint: served on loopback, private registry per Metrics."""

from __future__ import annotations

import socket

import httpx
import pytest

from agent.errors import AgentError
from agent.metrics import Metrics


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_metrics_endpoint_serves_the_agents_metrics() -> None:
    """GET /metrics on 127.0.0.1 shows the counters the agent updated."""
    metrics = Metrics()
    metrics.entries.labels("survival", "death").inc(3)
    metrics.http_responses.labels("201").inc()
    port = _free_port()
    metrics.serve("127.0.0.1", port)
    body = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=10).text
    assert 'serverops_agent_entries_total{server_id="survival",tag="death"} 3.0' in body
    assert 'serverops_agent_http_responses_total{status="201"} 1.0' in body


def test_two_instances_do_not_share_counters() -> None:
    """Each Metrics has its own registry (no global state between pipelines or tests)."""
    first, second = Metrics(), Metrics()
    first.entries_sent.inc()
    assert second.registry.get_sample_value("serverops_agent_entries_sent_total") == 0.0
    assert first.registry.get_sample_value("serverops_agent_entries_sent_total") == 1.0


def test_a_taken_port_is_a_clear_error() -> None:
    """Listening on a port another process holds fails with the address, not a traceback."""
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        port = holder.getsockname()[1]
        with pytest.raises(AgentError, match=f"127.0.0.1:{port}"):
            Metrics().serve("127.0.0.1", port)


class TestReadingBack:
    def test_total_of_a_counter_a_gauge_and_a_labelled_counter(self) -> None:
        """total() gives an unlabelled metric's value and sums a labelled one's."""
        metrics = Metrics()
        metrics.entries_sent.inc(5)
        metrics.last_success.set(1700000000.5)
        metrics.entries_filtered.labels("tag_excluded").inc(2)
        metrics.entries_filtered.labels("sampled").inc(3)
        assert metrics.total(metrics.entries_sent) == 5
        assert metrics.total(metrics.last_success) == 1700000000.5
        assert metrics.total(metrics.entries_filtered) == 5
        assert metrics.total(metrics.entries_dead_lettered) == 0

    def test_by_label_sums_the_other_labels(self) -> None:
        """by_label() counts per value of one label, summed over the others (servers)."""
        metrics = Metrics()
        metrics.entries.labels("survival", "death").inc(3)
        metrics.entries.labels("creative", "death").inc(1)
        metrics.entries.labels("creative", "chat").inc(2)
        assert metrics.by_label(metrics.entries, "tag") == {"death": 4, "chat": 2}
        assert metrics.by_label(metrics.entries, "server_id") == {"survival": 3, "creative": 3}

    def test_a_metric_of_another_instance_is_refused(self) -> None:
        """Reading another Metrics' metric is a mistake, not a silent wrong figure."""
        first, second = Metrics(), Metrics()
        second.entries_sent.inc()
        with pytest.raises(ValueError, match="not a metric of this Metrics"):
            first.total(second.entries_sent)
