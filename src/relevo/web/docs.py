"""The interactive API documentation, served from vendored assets (no CDN)."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, FastAPI
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

STATIC = Path(__file__).parent / "static"

router = APIRouter(include_in_schema=False)


@router.get("/docs")
def swagger_ui() -> HTMLResponse:
    """Swagger UI over ``/openapi.json``, with its script and styles served by relevo."""
    return get_swagger_ui_html(
        openapi_url="/openapi.json",
        title="relevo API",
        swagger_js_url="/static/swagger-ui/swagger-ui-bundle.js",
        swagger_css_url="/static/swagger-ui/swagger-ui.css",
        swagger_favicon_url="data:,",
    )


def install(app: FastAPI) -> None:
    """Serve ``/docs`` and the static assets it needs."""
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    app.include_router(router)
