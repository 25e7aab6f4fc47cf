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
    chat, trace = _entries()[:2]  # a chat line; a truncated, undecodable trace
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


def _entries() -> list[Entry]:
    return [
        Entry("s", "f", 0, 10, "<Steve> hi", "[..] <Steve> hi", tags=["chat"]),
        Entry(
            "s",
            "f",
            10,
            90,
            "boom\n\tat x",
            "[..] boom\n\tat x\n\tat y",
            tags=["unknown"],
            truncated=True,
            decoding=Decoding.REPLACED,
        ),
        Entry("s", "f", 90, 99, "<Alex> 10.0.0.1", "[..] <Alex> 10.0.0.1", tags=["chat"]),
        Entry("t", "g", 0, 9, "Done", "[..] Done", tags=["server", "started"]),
    ]


def test_encode_lines_prints_and_counts_what_encode_does_one_by_one() -> None:
    """The batch form (backfill --dry-run) gives the same bodies and the same counters."""
    one_by_one, batched = Metrics(), Metrics()
    entry_filter = EntryFilter.create(exclude_tags=["unknown"])
    single = EntryEncoder(entry_filter, one_by_one, ip_mode="hash", ip_key=b"k")
    expected = [coded[1] for entry in _entries() if (coded := single.encode(entry))]
    encoder = EntryEncoder(entry_filter, batched, ip_mode="hash", ip_key=b"k")
    assert encoder.encode_lines(_entries()) == b"".join(body + b"\n" for body in expected)
    assert len(expected) == 3
    samples = [
        (sample.name, sample.labels, sample.value)
        for family in one_by_one.registry.collect()
        for sample in family.samples
        if not sample.name.endswith("_created")
    ]
    assert samples
    for name, labels, value in samples:
        assert batched.registry.get_sample_value(name, labels) == value, (name, labels)
