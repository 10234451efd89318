"""How Debian's Chromium is started, by the browser tests and by bench/slider.py alike.

Without the background-networking flags Chromium keeps trying hosts this machine cannot reach.
"""

from __future__ import annotations

from pathlib import Path

CHROMIUM = Path("/usr/bin/chromium")
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
