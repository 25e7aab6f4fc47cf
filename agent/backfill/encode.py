"""How entries become API bodies in a backfill: the daemon's EntryEncoder, rebuilt per file.

The settings are plain and picklable so worker processes can build the same encoder
(agent/encode/encoder.py ``EntryEncoder``: filter, IP policy, body, as
``agent.app.wiring.build_encoder`` configures it for the daemon) the parent would.
"""

from __future__ import annotations

from dataclasses import dataclass

from agent.encode.encoder import EntryEncoder
from agent.encode.filters import EntryFilter
from agent.encode.privacy import IpMode
from agent.metrics import Metrics


@dataclass(frozen=True, slots=True)
class EncodeSettings:
    """Filter + privacy + body settings (from the CLI and the config's ``[filters]``)."""

    entry_filter: EntryFilter
    raw_line: bool = False
    ip_mode: IpMode = "keep"
    ip_key: bytes | None = None

    def encoder(self, metrics: Metrics) -> EntryEncoder:
        """An EntryEncoder counting into ``metrics``."""
        return EntryEncoder(
            self.entry_filter,
            metrics,
            raw_line=self.raw_line,
            ip_mode=self.ip_mode,
            ip_key=self.ip_key,
        )
