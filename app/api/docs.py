"""/docs: Swagger UI from our own static files, so it works offline and under a strict CSP."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import HTMLResponse

from app.assets import static_path

router = APIRouter(include_in_schema=False)

SWAGGER = "vendor/swagger-ui-5.35.0"
# Relative URLs ("static/...", without the leading slash): they resolve against /docs, so
# they carry the root path (ROOT_PATH) whatever it is.
PAGE = f"""<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>Tune or Prompt API</title>
<link rel="stylesheet" href="{static_path(SWAGGER + "/swagger-ui.css")[1:]}">
</head>
<body>
<div id="swagger-ui"></div>
<script src="{static_path(SWAGGER + "/swagger-ui-bundle.js")[1:]}"></script>
<script src="{static_path("docs-init.js")[1:]}"></script>
</body>
</html>
"""


@router.get("/docs")
def read_docs() -> HTMLResponse:
    """Interactive API documentation."""
    return HTMLResponse(PAGE)
