"""What bench/run.py and bench/soak.py share: servers on loopback, their memory, the machine.

Servers are started exactly as `python -m app` starts them (bench/serve.py applies the same
uvicorn options from Settings), so the app and the bare endpoint differ only in the app.
Every process started here is stopped here, by its id.
"""

from __future__ import annotations

import json
import os
import platform
import signal
import socket
import statistics
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Mapping
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"
HOST = "127.0.0.1"  # loopback only: load never leaves this machine

# The two scenarios every measurement uses, as the dotted query of GET /api/v1/compare, so the
# in-process and HTTP figures compute the same thing. 36 months, growth, catalog models.
PER_TOKEN: dict[str, str] = {
    "workload.queries_per_month": "1000000",
    "workload.monthly_growth": "0.05",
    "workload.horizon_months": "36",
    "prompted.model": "gpt-4.1",
    "prompted.static_prompt_tokens": "3000",
    "prompted.cache_hit_rate": "0.6",
    "finetuned.model": "ft:gpt-4.1-mini",
    "finetuned.training.examples": "1500",
    "finetuned.retrain_every_months": "6",
    "finetuned.new_examples_per_retrain": "300",
}
SELF_HOSTED: dict[str, str] = {
    "workload.queries_per_month": "3000000",
    "workload.monthly_growth": "0.05",
    "workload.horizon_months": "36",
    "prompted.model": "gpt-4.1",
    "prompted.static_prompt_tokens": "3000",
    "finetuned.self_hosted.gpu_hourly_price": "2.5",
    "finetuned.self_hosted.prefill_tokens_per_s": "20000",
    "finetuned.self_hosted.decode_tokens_per_s": "2500",
    "finetuned.training.gpu_hours": "20",
    "finetuned.training.gpu_hourly_price": "2.5",
}

# Several candidates: the two-arm scenario as two cards, and six cards (three prompted
# models, a fine-tune at a host, self-hosted GPUs, a hybrid), as the page's dotted names.
_CARDS: list[dict[str, str]] = [
    {
        "id": "now",
        "kind": "prompted",
        "model": "gpt-4.1",
        "static_prompt_tokens": "3000",
        "cache_hit_rate": "0.6",
    },
    {
        "id": "lora",
        "kind": "finetuned",
        "model": "ft:gpt-4.1-mini",
        "training.examples": "1500",
        "retrain_every_months": "6",
    },
    {
        "id": "frontier",
        "kind": "prompted",
        "model": "gpt-5.5",
        "static_prompt_tokens": "3000",
        "cache_hit_rate": "0.6",
    },
    {
        "id": "small",
        "kind": "prompted",
        "model": "gpt-5.4-mini",
        "static_prompt_tokens": "3000",
        "cache_hit_rate": "0.6",
    },
    {
        "id": "own",
        "kind": "finetuned",
        "self_hosted.gpu_hourly_price": "2.5",
        "self_hosted.prefill_tokens_per_s": "20000",
        "self_hosted.decode_tokens_per_s": "2500",
        "training.gpu_hours": "20",
        "training.gpu_hourly_price": "2.5",
    },
    {"id": "mix", "kind": "hybrid", "core": "own", "fallback": "frontier", "core_share": "0.8"},
]


def candidates_query(n: int) -> dict[str, str]:
    out = {k: v for k, v in PER_TOKEN.items() if k.startswith("workload.")}
    for i, card in enumerate(_CARDS[:n]):
        out.update({f"candidates.{i}.{k}": v for k, v in card.items()})
    return out


CANDIDATES_2 = candidates_query(2)
CANDIDATES_6 = candidates_query(6)


def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return int(s.getsockname()[1])


def get(port: int, path: str, headers: Mapping[str, str] | None = None) -> tuple[int, bytes]:
    request = urllib.request.Request(f"http://{HOST}:{port}{path}", headers=dict(headers or {}))
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return int(response.status), response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


def request(
    port: int,
    path: str,
    method: str = "GET",
    headers: Mapping[str, str] | None = None,
    body: bytes | None = None,
) -> tuple[int, bytes]:
    req = urllib.request.Request(
        f"http://{HOST}:{port}{path}", data=body, method=method, headers=dict(headers or {})
    )
    try:
        with urllib.request.urlopen(req, timeout=10) as response:
            return int(response.status), response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


@dataclass
class Server:
    """A uvicorn server of `app_ref` on a free loopback port, started like `python -m app`."""

    app_ref: str
    workers: int
    env: dict[str, str] = field(default_factory=dict)
    port: int = 0
    process: subprocess.Popen[bytes] | None = None
    started_in: float = 0.0  # seconds from process start to the first /healthz 200

    def start(self, timeout: float = 30.0) -> Server:
        self.port = free_port()
        env = {
            **os.environ,
            **self.env,
            "HOST": HOST,
            "PORT": str(self.port),
            "WORKERS": str(self.workers),
            "PYTHONDONTWRITEBYTECODE": "1",
        }
        t0 = time.perf_counter()
        self.process = subprocess.Popen(
            [sys.executable, str(BENCH / "serve.py"), self.app_ref],
            env=env,
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        deadline = t0 + timeout
        while time.perf_counter() < deadline:
            if self.process.poll() is not None:
                err = self.process.stderr.read().decode() if self.process.stderr else ""
                raise RuntimeError(f"{self.app_ref} exited with {self.process.returncode}: {err}")
            try:
                if get(self.port, "/healthz")[0] == 200:
                    self.started_in = time.perf_counter() - t0
                    self._wait_for_workers(deadline)
                    return self
            except OSError:
                pass
            time.sleep(0.005)
        self.stop()
        raise RuntimeError(f"{self.app_ref} did not answer /healthz within {timeout} s")

    def _wait_for_workers(self, deadline: float) -> None:
        # With several workers the first 200 comes from the first worker up; measure load
        # only once all of them are running.
        while len(self.worker_pids()) < self.workers and time.perf_counter() < deadline:
            time.sleep(0.02)
        time.sleep(0.3)

    def worker_pids(self) -> list[int]:
        """Processes serving requests: the server itself with one worker, else its children."""
        assert self.process is not None
        pid = self.process.pid
        if self.workers == 1:
            return [pid]
        children = Path(f"/proc/{pid}/task/{pid}/children")
        try:
            pids = [int(p) for p in children.read_text().split()]
        except OSError:
            return []
        # multiprocessing may add a resource tracker; it serves nothing.
        return [p for p in pids if "resource_tracker" not in _cmdline(p)]

    def rss_mb(self) -> list[float]:
        """Resident memory of each worker, in MB (VmRSS from /proc)."""
        return [rss_mb(p) for p in self.worker_pids()]

    def cpu_seconds(self) -> list[float]:
        """CPU time (user + system) each worker has used so far."""
        return [cpu_seconds(p) for p in self.worker_pids()]

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        # SIGTERM to the server we started: uvicorn's supervisor stops its own workers.
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            for pid in self.worker_pids():
                _kill(pid)
            self.process.kill()
            self.process.wait(timeout=5)


@contextmanager
def serving(app_ref: str, workers: int, env: dict[str, str] | None = None) -> Iterator[Server]:
    server = Server(app_ref, workers, dict(env or {})).start()
    try:
        yield server
    finally:
        server.stop()


def _kill(pid: int) -> None:
    with suppress(ProcessLookupError):
        os.kill(pid, signal.SIGKILL)


def _cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return ""


def cpu_seconds(pid: int) -> float:
    # /proc/<pid>/stat: utime and stime are fields 14 and 15, counted after the ")" that
    # closes the command name (which may itself contain spaces).
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024  # kB
    raise RuntimeError(f"no VmRSS for process {pid}")


def percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..100) of a non-empty list."""
    ordered = sorted(values)
    rank = max(1, min(len(ordered), round(q / 100 * len(ordered) + 0.5)))
    return ordered[rank - 1]


def median(values: list[float]) -> float:
    return statistics.median(values)


def machine() -> dict[str, str]:
    cpu = "unknown"
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    usable = len(os.sched_getaffinity(0))
    versions = {}
    for name in ("fastapi", "starlette", "uvicorn", "pydantic", "uvloop", "httptools"):
        try:
            from importlib.metadata import version

            versions[name] = version(name)
        except Exception:
            versions[name] = "absent"
    return {
        "cpu": cpu,
        "cores": f"{usable} usable ({os.cpu_count()} online)",
        "memory": _memory(),
        "python": f"{platform.python_implementation()} {platform.python_version()}",
        "os": f"{platform.system()} {platform.release()}",
        "packages": ", ".join(f"{k} {v}" for k, v in versions.items()),
    }


def _memory() -> str:
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("MemTotal:"):
            return f"{int(line.split()[1]) / 1024 / 1024:.1f} GiB"
    return "unknown"


def write_section(doc: Path, start: str, end: str, section: str) -> None:
    """Replace what stands between the markers `start` and `end` in `doc` with `section`."""
    text = doc.read_text(encoding="utf-8")
    if start not in text or end not in text:
        raise SystemExit(f"{doc}: markers {start} and {end} are missing")
    head, rest = text.split(start, 1)
    _, tail = rest.split(end, 1)
    doc.write_text(f"{head}{start}\n{section}\n{end}{tail}", encoding="utf-8")


def dumps(data: object) -> str:
    return json.dumps(data, indent=2, sort_keys=True)
