"""`python -m app`: serve with uvicorn, configured from Settings (the container's entry point)."""

from __future__ import annotations

from app import serving
from app.settings import Settings


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
        "access_log": settings.access_log,
        "log_level": "info",
    }


def main() -> None:
    settings = Settings()
    # An import string, not the app object: uvicorn needs it to start several workers.
    serving.run("app.main:app", **uvicorn_options(settings))


if __name__ == "__main__":
    main()
