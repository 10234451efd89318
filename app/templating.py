"""The one Jinja environment behind every HTML response (page, fragment, embed, counter).

Templates are compiled once and never re-checked on disk: with auto-reload on, Jinja stats
every template a response includes on every request (four per results fragment). Restart the
server after editing a template.
"""

from __future__ import annotations

from fastapi.templating import Jinja2Templates

from app.assets import static, url
from app.domain.formatting import count, percent, usd, usd_fine
from app.settings import ROOT, settings

templates = Jinja2Templates(directory=ROOT / "templates")
templates.env.auto_reload = False
templates.env.filters.update(usd=usd, usd_fine=usd_fine, count=count, percent=percent)
# Every URL a template writes goes through these: the root path, and versioned static files.
templates.env.globals.update(url=url, static=static)
# The forms' htmx trigger: recompute after INPUT_DELAY_MS of quiet, or at once on submit.
templates.env.globals["input_trigger"] = f"input changed delay:{settings.input_delay_ms}ms, submit"
