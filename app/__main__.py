"""`python -m app`: serve with uvicorn, configured from Settings (the container's entry point)."""

from __future__ import annotations

import logging
import sys

from uvicorn.config import STARTUP_FAILURE

from app import serving
from app.settings import Settings

logger = logging.getLogger("uvicorn.error")


def uvicorn_options(settings: Settings) -> dict[str, object]:
    """uvicorn's keyword arguments for these settings (separate so tests can read them)."""
    return {
        "host": settings.host,
        "port": settings.port,
        "workers": settings.workers,
        # The server's job per ASGI (FastAPI deprecates its own root_path): uvicorn prefixes
        # scope["path"] and sets scope["root_path"], so the proxy must strip the prefix.
        "root_path": settings.root_path,
        "proxy_headers": True,
        "forwarded_allow_ips": settings.forwarded_allow_ips,
        # No Server header advertising versions.
        "server_header": False,
        "loop": settings.event_loop,
        "access_log": settings.access_log,
        "log_level": "info",
    }


def check_catalog() -> None:
    """Load the pricing catalog once before any worker starts: a bad file stops start-up
    here, with one line naming the file, the model and the field, and exit status 3."""
    from app.pricing import get_catalog

    try:
        get_catalog()
    except Exception as exc:
        logging.basicConfig(format="%(levelname)s:     %(message)s")
        logger.error("Could not load the pricing catalog: %s", exc)
        sys.exit(STARTUP_FAILURE)


def main() -> None:
    settings = Settings()
    check_catalog()
    # An import string, not the app object: uvicorn needs it to start several workers.
    serving.run("app.main:app", **uvicorn_options(settings))


if __name__ == "__main__":
    main()
