"""The baseline: a bare FastAPI endpoint returning a small JSON, with nothing of the app.

Its throughput and latency, served the same way in the same run, are the yardstick of every
HTTP figure of the benchmark (what FastAPI and uvicorn cost on this machine by themselves).
"""

from __future__ import annotations

from fastapi import FastAPI

app = FastAPI(docs_url=None, redoc_url=None, openapi_url=None)


# async: the least work FastAPI can do per request (no thread-pool hop), so the ratios show
# everything the app adds, its own threading included.
@app.get("/bare")
async def read_bare() -> dict[str, object]:
    """A small JSON, as small as a health check."""
    return {"status": "ok", "models": 20}


@app.get("/healthz")
async def read_health() -> dict[str, str]:
    """Ready as soon as the process serves."""
    return {"status": "ok"}
