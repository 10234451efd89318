"""Start-up (app.main's lifespan): what is prepared before the first request."""

from __future__ import annotations

import asyncio
import gc

import pytest
from jinja2 import ChoiceLoader, DictLoader, TemplateSyntaxError

from app.main import app, lifespan
from app.templating import templates


def start() -> None:
    async def run() -> None:
        async with lifespan(app):
            pass

    asyncio.run(run())


def test_start_up_compiles_every_template_and_never_rereads_them() -> None:
    templates.env.cache.clear()
    start()
    names = templates.env.list_templates(extensions=["html"])
    assert "_partials/_results.html" in names
    cached = {key[1] for key in templates.env.cache}  # keys are (loader ref, name)
    assert set(names) <= cached
    assert templates.env.auto_reload is False


def test_a_template_syntax_error_stops_start_up(monkeypatch: pytest.MonkeyPatch) -> None:
    broken = DictLoader({"broken.html": "{% if %}"})
    monkeypatch.setattr(templates.env, "loader", ChoiceLoader([templates.env.loader, broken]))
    templates.env.cache.clear()
    with pytest.raises(TemplateSyntaxError):
        start()
    templates.env.cache.clear()


def test_start_up_freezes_what_lives_as_long_as_the_process() -> None:
    thresholds = gc.get_threshold()
    try:
        gc.unfreeze()
        start()
        assert gc.get_freeze_count() > 0
        assert gc.get_threshold()[0] == 10_000
    finally:
        gc.set_threshold(*thresholds)
