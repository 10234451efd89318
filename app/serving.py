"""Several workers, each listening on its own SO_REUSEPORT socket (used by `python -m app`).

uvicorn's multi-worker mode binds one socket in its supervisor and hands it to every worker.
The worker that wakes first accepts every pending connection, so when a reverse proxy or a load
generator opens many keep-alive connections at once, one worker can end up holding nearly all
of them: `make bench` measured 100/0% CPU splits between two workers, which halves the capacity
and doubles the latency. With SO_REUSEPORT each worker listens on a socket of its own and the
kernel spreads new connections across them by a hash of their addresses.

uvicorn's supervisor is kept as it is (signals, health checks, restarts, graceful shutdown);
only the socket each worker serves changes. That takes replacing the worker class its
supervisor instantiates (`uvicorn.supervisors.multiprocess.Process`); the uvicorn version is
pinned in constraints.txt and tests/test_serving.py checks the result on a real server.
"""

from __future__ import annotations

import logging
import socket
import sys

import uvicorn
from uvicorn.config import STARTUP_FAILURE
from uvicorn.supervisors import multiprocess

logger = logging.getLogger("uvicorn.error")


def reuse_port_supported() -> bool:
    # Linux spreads connections across SO_REUSEPORT listeners; other systems (macOS, BSD)
    # accept the option but hand every connection to one socket.
    return sys.platform.startswith("linux") and hasattr(socket, "SO_REUSEPORT")


def reuse_port_socket(host: str, port: int) -> socket.socket:
    """A socket bound to host:port that other SO_REUSEPORT sockets of this user may share."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # IPPROTO_TCP, not 0: asyncio sets TCP_NODELAY only on connections whose socket names
    # its protocol, and without it every two-write answer (head, then body) waits ~40 ms for
    # the client's delayed ACK (bench/fairness.py measured 44 ms medians at any load).
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        sock.bind((host, port))
    except OSError:
        sock.close()
        raise
    return sock


class ReusePortProcess(multiprocess.Process):
    """A uvicorn worker that binds its own socket instead of serving the supervisor's."""

    def target(self, sockets: list[socket.socket] | None = None) -> None:  # pragma: no cover
        # Runs in the worker process (covered by tests/test_serving.py through a real server).
        try:
            sock = reuse_port_socket(self.config.host, self.config.port)
        except OSError as exc:
            logger.error("Worker could not bind %s:%s: %s", self.config.host, self.config.port, exc)
            sys.exit(STARTUP_FAILURE)
        super().target([sock])


def run(app: str, **options: object) -> None:
    """uvicorn.run(app, **options), with one SO_REUSEPORT socket per worker when there are
    several workers on Linux; otherwise exactly uvicorn.run."""
    config = uvicorn.Config(app, **options)  # type: ignore[arg-type]
    if config.workers <= 1 or config.uds or config.fd is not None or not reuse_port_supported():
        uvicorn.run(app, **options)  # type: ignore[arg-type]
        return
    # The supervisor holds a bound, never-listening socket: a port that is taken fails here,
    # once, with the address in the message, and nothing else can take the port meanwhile.
    try:
        reserved = reuse_port_socket(config.host, config.port)
    except OSError as exc:
        logger.error("Could not bind %s:%s: %s", config.host, config.port, exc)
        sys.exit(STARTUP_FAILURE)
    logger.info(
        "Uvicorn running on http://%s:%s, %s workers with a SO_REUSEPORT socket each",
        config.host,
        config.port,
        config.workers,
    )
    multiprocess.Process = ReusePortProcess  # type: ignore[misc]
    supervisor = multiprocess.Multiprocess(config, sockets=[])
    try:
        supervisor.run()
    except KeyboardInterrupt:  # pragma: no cover
        pass
    finally:
        reserved.close()
    # uvicorn's supervisor stops when a worker fails to start (a bad pricing file, a template
    # that does not compile) but returns normally: the exit status must say it failed.
    workers = getattr(supervisor, "processes", [])
    if any(getattr(p, "exitcode", None) == STARTUP_FAILURE for p in workers):
        sys.exit(STARTUP_FAILURE)
