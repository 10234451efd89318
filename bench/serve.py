"""Serve an ASGI app given as an import string with exactly the options of `python -m app`.

Used by the benchmark and the soak test, so the app and the bare endpoint are served the same way.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # the repository, for bench.*

from app import serving
from app.__main__ import uvicorn_options
from app.settings import Settings

if __name__ == "__main__":
    serving.run(sys.argv[1], **uvicorn_options(Settings()))
