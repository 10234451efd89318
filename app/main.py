"""Build the FastAPI app: routers gathered in one place, the catalog loaded at start-up."""

from __future__ import annotations

import gc
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from app.api import errors
from app.api import router as api_router
from app.assets import STATIC_DIR, VersionedStaticFiles
from app.compression import CompressionMiddleware
from app.domain import encodings
from app.http_cache import ETagMiddleware
from app.middleware import SecurityMiddleware
from app.pricing import get_catalog
from app.templating import templates
from app.web import presets
from app.web import router as web_router


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    # Load (and validate) the pricing catalog before serving: a malformed file stops start-up,
    # and so does a preset that names a retired model or drifted from the rows it cites.
    presets.check_presets(get_catalog())
    # tiktoken's encodings must be in the local, verified cache; a missing one is logged and
    # its counts fall back to estimates (never a download at run time).
    for problem in encodings.check():
        logging.getLogger("app").warning(problem)
    # Compile every template now: a syntax error stops start-up, not a request.
    for name in templates.env.list_templates(extensions=["html"]):
        templates.env.get_template(name)
    # Everything loaded so far (modules, catalog, compiled templates) lives as long as the
    # process. Freezing it keeps the collector from re-scanning it: without this, a full
    # collection every few hundred requests paused a worker for about 40 ms (bench/run.py's
    # p99 at one connection).
    gc.collect()
    gc.freeze()
    # A results fragment allocates tens of thousands of short-lived objects, almost none in
    # cycles; collecting the youngest generation every 10,000 allocations instead of 700 cut
    # its time by about 7% (docs/performance.md).
    gc.set_threshold(10_000, 10, 10)
    yield


def create_app() -> FastAPI:
    app = FastAPI(
        title="Tune or Prompt",
        version="1.0.0",
        summary="Fine-tune a small model or keep prompting a large one: the break-even, sourced.",
        lifespan=lifespan,
        # Any route may run past REQUEST_TIME_LIMIT (app.middleware answers for it).
        responses={503: {"model": errors.ErrorBody, "description": "Ran past the time limit"}},
        docs_url=None,  # served by app.api.docs from vendored files, not a CDN
        redoc_url=None,
    )
    errors.install(app)
    app.add_middleware(ETagMiddleware)  # inside SecurityMiddleware: a 304 gets its headers
    app.add_middleware(SecurityMiddleware)
    app.add_middleware(CompressionMiddleware)  # outermost: compresses what the rest wrote
    app.include_router(api_router)
    app.include_router(web_router)
    app.mount("/static", VersionedStaticFiles(directory=STATIC_DIR), name="static")
    return app


app = create_app()
