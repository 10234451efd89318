"""/docs: Swagger UI from our own static files, so it works offline and under a strict CSP."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import HTMLResponse

router = APIRouter(include_in_schema=False)

SWAGGER = "static/vendor/swagger-ui-5.35.0"
PAGE = f"""<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>Tune or Prompt API</title>
<link rel="stylesheet" href="{SWAGGER}/swagger-ui.css">
</head>
<body>
<div id="swagger-ui"></div>
<script src="{SWAGGER}/swagger-ui-bundle.js"></script>
<script src="static/docs-init.js"></script>
</body>
</html>
"""


@router.get("/docs")
def read_docs() -> HTMLResponse:
    """Interactive API documentation."""
    return HTMLResponse(PAGE)
