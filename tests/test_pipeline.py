"""The pipeline's shared encoder: counting, filtering, encoding."""

from __future__ import annotations

from agent.encode.encoder import EntryEncoder
from agent.encode.filters import EntryFilter
from agent.metrics import Metrics
from agent.model import Decoding, Entry


def test_encoder_counts_lines_tags_and_filtered_entries() -> None:
    """Every entry is counted (lines, tags) before the filter decides; skips by reason."""
    metrics = Metrics()
    encoder = EntryEncoder(EntryFilter.create(exclude_tags=["unknown"]), metrics)
    chat = Entry("s", "f", 0, 10, "<Steve> hi", "[..] <Steve> hi", tags=["chat"])
    trace = Entry(
        "s",
        "f",
        10,
        90,
        "boom\n\tat x",
        "[..] boom\n\tat x\n\tat y",
        tags=["unknown"],
        truncated=True,
        decoding=Decoding.REPLACED,
    )
    assert encoder.encode(chat) is not None
    assert encoder.encode(trace) is None
    sample = metrics.registry.get_sample_value
    assert sample("serverops_agent_lines_read_total", {"server_id": "s"}) == 4
    assert sample("serverops_agent_entries_total", {"server_id": "s", "tag": "chat"}) == 1
    assert sample("serverops_agent_entries_filtered_total", {"reason": "tag_excluded"}) == 1
    assert sample("serverops_agent_lines_truncated_total", {"server_id": "s"}) == 1
    assert (
        sample("serverops_agent_lines_not_utf8_total", {"server_id": "s", "decoding": "replaced"})
        == 1
    )
