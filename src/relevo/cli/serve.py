"""``relevo serve``: run the HTTP API with uvicorn."""

from __future__ import annotations

from typing import Annotated

import typer
import uvicorn

from relevo.bootstrap import build_app, tune_runtime
from relevo.cli.common import failures
from relevo.config import Settings
from relevo.web import access_log


def serve(
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port.")] = 8000,
) -> None:
    """Serve the API (docs at /docs, OpenAPI at /openapi.json)."""
    tune_runtime()
    with failures():
        app = build_app(Settings.from_env())
    uvicorn.run(app, host=host, port=port, log_level="info", log_config=access_log.log_config())
