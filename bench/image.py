"""The container image's size and start-up time, measured with a real Docker daemon.

Start-up is timed from the daemon's own clock: the container's StartedAt to the log line of
the last worker's "Application startup complete" (uvicorn's, timestamped by the daemon with
`docker logs -t`), so the polling of a client adds nothing. The container runs as the image
test runs it: read-only, no network, non-root. Prints a Markdown table; asserts nothing.

    python bench/image.py [IMAGE] [--starts 3] [--write-doc]     (DOCKER: the client)

`--write-doc` puts the table between the image markers of docs/performance.md.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from datetime import date, datetime
from pathlib import Path

DOCKER = os.environ.get("DOCKER", "docker")
READY = "Application startup complete"


def docker(*args: str, timeout: float = 60) -> str:
    done = subprocess.run(
        [DOCKER, *args], capture_output=True, text=True, timeout=timeout, check=True
    )
    return done.stdout.strip() + done.stderr.strip()


def stamp(text: str) -> datetime:
    # RFC 3339 with nanoseconds: keep microseconds for datetime.
    head, _, frac = text.rstrip("Z").partition(".")
    return datetime.fromisoformat(f"{head}.{(frac + '000000')[:6]}+00:00")


def one_start(image: str, workers: int) -> tuple[float, float]:
    """Seconds from the container's start to its first and to its last worker's readiness."""
    cid = docker(
        "run", "--detach", "--read-only", "--network", "none", "--user", "10001:10001",
        "--env", f"WORKERS={workers}", image,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            lines = docker("logs", "--timestamps", cid).splitlines()
            ready = [line for line in lines if READY in line]
            if len(ready) >= workers:
                started = stamp(docker("inspect", "--format", "{{.State.StartedAt}}", cid))
                times = sorted(stamp(line.split()[0]) for line in ready)
                return (
                    (times[0] - started).total_seconds(),
                    (times[-1] - started).total_seconds(),
                )
            time.sleep(0.2)
        raise SystemExit(f"{image}: no '{READY}' from {workers} workers within 120 s")
    finally:
        subprocess.run([DOCKER, "rm", "--force", cid], capture_output=True, timeout=60)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("image", nargs="?", default="tune-or-prompt")
    parser.add_argument("--starts", type=int, default=3)
    parser.add_argument("--write-doc", action="store_true")
    args = parser.parse_args()
    size = int(docker("image", "inspect", "--format", "{{.Size}}", args.image))
    load = Path("/proc/loadavg").read_text().split()[0]
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    from bench.harness import Server

    rows: list[str] = []
    out: list[str] = []
    for workers in (1, 2):
        firsts, lasts, local = [], [], []
        for _ in range(args.starts):
            first, last = one_start(args.image, workers)
            firsts.append(first)
            lasts.append(last)
            # The same app outside the container, started the same way, in the same minute:
            # the ratio says what the container adds on this machine.
            server = Server("app.main:app", workers).start()
            local.append(server.started_in)
            server.stop()
        rows.append(
            f"| start-up, WORKERS={workers}: container start to the first worker ready "
            f"(serving /healthz) | median {statistics.median(firsts):.2f} s · max "
            f"{max(firsts):.2f} s | {statistics.median(local):.2f} s |"
        )
        rows.append(
            f"| start-up, WORKERS={workers}: container start to the last worker ready "
            f"| median {statistics.median(lasts):.2f} s · max {max(lasts):.2f} s | |"
        )
        print(f"  WORKERS={workers}: {firsts} {lasts} local {local}", file=sys.stderr)
    out.append(
        f"Measured {date.today().isoformat()} with `python bench/image.py {args.image}` "
        f"(Docker {docker('version', '--format', '{{.Server.Version}}')}); load average "
        f"{load} when it started.\n"
    )
    out.append(
        f"Each start-up figure is of {args.starts} cold starts; the last column is the app started"
    )
    out.append(
        "outside the container with `python -m app`'s options (bench/serve.py), to its first"
    )
    out.append("/healthz 200, alternating with the container's starts.\n")
    out.append("| measurement | value | outside the container |\n|---|---|---|")
    out.append(f"| image size (`docker image inspect`, uncompressed) | {size / 1e6:.0f} MB | |")
    out.append("\n".join(rows))

    section = "\n".join(out)
    print(section)
    if args.write_doc:
        doc = Path(__file__).resolve().parent.parent / "docs" / "performance.md"
        text = doc.read_text(encoding="utf-8")
        head, rest = text.split("<!-- image:start -->", 1)
        _, tail = rest.split("<!-- image:end -->", 1)
        doc.write_text(
            f"{head}<!-- image:start -->\n{section}\n<!-- image:end -->{tail}", encoding="utf-8"
        )


if __name__ == "__main__":
    main()
