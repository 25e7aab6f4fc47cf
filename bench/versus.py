"""The agent against syslog-ng, in one run, on the same logs and the same receiver.

    .venv/bin/python bench/versus.py --case burst --tool both --rounds 2
    .venv/bin/python bench/versus.py --case rate1 --tool both --seconds 20

syslog-ng is the yardstick of issues 12 and 13: ``wildcard-file()`` -> ``http()``, one
request per entry, 8 workers, a disk buffer, as the issues describe it. Its files are
polled once a second (``monitor-method("poll")``, ``follow-freq(1)``): with inotify it
takes one inotify instance per folder and, at 200 servers, runs out of them
(``fs.inotify.max_user_instances``, 128 here) and silently loses lines; polling also makes
its latency ~0.5 s and lets it read a second's lines in one go. It is not a
dependency and nothing here installs it: on Debian ``apt-get install syslog-ng-core
syslog-ng-mod-http`` (3.38 measured). Its ``http()`` headers are not templates in 3.38,
so it cannot send a per-entry ``Idempotency-Key``; the receiver then takes each entry's
key from ``meta.event_id`` (``ReceiverState.require_key``), which syslog-ng fills with
``$UNIQID``.

Cases: the four of bench/host.py (``idle1``, ``rate1``, ``idle200``, ``rate200``: lines
written one by one at a steady pace, CPU of the whole process from /proc, latency,
exactly once), and ``burst``: ``--lines`` lines (default 50,000) appended to one
``latest.log`` in one write, as issue 13's shipping row does; it gives entries/s from the
write to the last arrival and CPU per entry of the whole process over that time.
Every case checks each line arrived exactly once (missing and repeated are 0).
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import shutil
import sys
import tempfile
import time
from contextlib import AbstractContextManager
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from host import (  # noqa: E402
    CASES,
    TOKEN,
    Case,
    arrivals,
    cpu_seconds,
    make_logs,
    run_case,
    running_agent,
    started,
)

from tests.receiver import Receiver  # noqa: E402

SYSLOG_NG = shutil.which("syslog-ng") or "/usr/sbin/syslog-ng"
_BODY = "$(format-json level=info message=$MESSAGE meta.event_id=$UNIQID meta.server_id=$FILE_NAME)"
BURST = Case(1, 0.0, glob=False)

_SYSLOG_NG_CONF = """@version: 3.38
options {{ use-uniqid(yes); }};
source s_logs {{
  wildcard-file(base-dir("{volumes}") filename-pattern("latest.log") recursive(yes)
                follow-freq(1) monitor-method("poll") flags(no-parse) max-files(1000)
                log-iw-size(1000000));
}};
destination d_api {{
  http(url("{url}/logs") method("POST")
       headers("Authorization: Bearer {token}", "Content-Type: application/json")
       body("{body}")
       workers(8)
       disk-buffer(reliable(no) disk-buf-size(1073741824) dir("{state}")));
}};
log {{ source(s_logs); destination(d_api); }};
"""


def running(tool: str, work: Path, case: Case, url: str) -> AbstractContextManager[int]:
    """Start the tool on ``work``'s logs; its pid; stopped (SIGTERM) afterwards."""
    if tool == "agent":
        return running_agent(work, case, url)
    state = work / "state"
    state.mkdir()
    config = work / "syslog-ng.conf"
    config.write_text(
        _SYSLOG_NG_CONF.format(
            volumes=work / "volumes", url=url, token=TOKEN, state=state, body=_BODY
        )
    )
    command = [
        SYSLOG_NG,
        "-F",  # foreground: the pid measured is the one doing the work
        "--no-caps",
        "-f",
        str(config),
        "-R",
        str(state / "persist"),
        "-p",
        str(state / "pid"),
        "-c",
        str(state / "ctl"),
    ]
    return started(command, work / "syslog-ng.log", dict(os.environ))


def run_rate_case(tool: str, name: str, seconds: float, warmup: float) -> dict[str, object]:
    """One of bench/host.py's cases, run on ``tool``."""
    start = functools.partial(running, tool)
    result = run_case(name, CASES[name], seconds, warmup, start=start, require_key=tool == "agent")
    return {"tool": tool, **result}


def run_burst(tool: str, lines: int, warmup: float) -> dict[str, object]:
    """``lines`` lines appended at once; entries/s and CPU per entry until the last arrives."""
    with tempfile.TemporaryDirectory(prefix="versus-") as tmp, Receiver(TOKEN) as rx:
        work = Path(tmp)
        rx.state.messages = []
        rx.state.require_key = tool == "agent"
        (log,) = make_logs(work, BURST)
        with running(tool, work, BURST, rx.url) as pid:
            time.sleep(warmup)
            written = time.time()
            data = b"".join(
                b"[12:00:00] [Server thread/INFO]: <Steve> n=%d written=%.6f\n" % (n, written)
                for n in range(lines)
            )
            cpu0, start = cpu_seconds(pid), time.monotonic()
            with log.open("ab") as file:
                file.write(data)
            end = start + 600
            while rx.state.accepted_total < lines and time.monotonic() < end:
                time.sleep(0.05)
            elapsed = time.monotonic() - start
            cpu = cpu_seconds(pid) - cpu0
            result = arrivals(rx, lines, deadline=1.0)
    return {
        "tool": tool,
        "case": "burst",
        "lines": lines,
        "seconds": round(elapsed, 2),
        "entries_per_s": round(lines / elapsed),
        "cpu_us_per_entry": round(1e6 * cpu / lines, 1),
        **{k: v for k, v in result.items() if not k.startswith("latency")},
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--case", choices=[*CASES, "burst"], default="burst")
    parser.add_argument("--tool", choices=["agent", "syslog-ng", "both"], default="both")
    parser.add_argument("--rounds", type=int, default=1, help="tools alternate in each round")
    parser.add_argument("--lines", type=int, default=50_000, help="burst: lines written at once")
    parser.add_argument("--seconds", type=float, default=20.0, help="rate cases: window")
    parser.add_argument("--warmup", type=float, default=3.0, help="seconds before measuring")
    args = parser.parse_args()
    tools = ["agent", "syslog-ng"] if args.tool == "both" else [args.tool]
    for _ in range(args.rounds):
        for tool in tools:
            if args.case == "burst":
                result = run_burst(tool, args.lines, args.warmup)
            else:
                result = run_rate_case(tool, args.case, args.seconds, args.warmup)
            print(json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
