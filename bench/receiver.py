"""The fast bench receiver: tests/receiver.py as a process (uvloop when installed).

    .venv/bin/python bench/receiver.py --port 0 [--error-rate 0.1] [--latency 0.01]

Prints the port it listens on; ``GET /stats`` answers its counters.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.receiver import main

if __name__ == "__main__":
    main()
