"""``relevo serve``: run the HTTP API with uvicorn, in one process or several."""

from __future__ import annotations

import os
from typing import Annotated

import typer
import uvicorn

from relevo.bootstrap import build_app, tune_runtime
from relevo.cli.common import failures
from relevo.config import Settings
from relevo.web import access_log

#: What uvicorn imports in each worker process to build the app (``--workers`` > 1).
APP_FACTORY = "relevo.bootstrap:app_from_env"


def worker_count(workers: int) -> int:
    """The worker processes ``--workers`` asks for: 0 means one per CPU core."""
    return workers if workers > 0 else os.cpu_count() or 1


def serve(
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port.")] = 8000,
    workers: Annotated[
        int,
        typer.Option(
            min=0,
            help="Worker processes sharing the port, each with its own hub and database "
            "connections: 1 (the default) serves from this process; 0 starts one per CPU core.",
        ),
    ] = 1,
) -> None:
    """Serve the API (docs at /docs, OpenAPI at /openapi.json)."""
    tune_runtime()
    count = worker_count(workers)
    # Built here first even with several workers, so a wrong setting or database is
    # reported once, clearly, before any worker starts.
    with failures():
        app = build_app(Settings.from_env())
    log_config = access_log.log_config()
    if count == 1:
        uvicorn.run(app, host=host, port=port, log_level="info", log_config=log_config)
        return
    app.state.hub.close()
    uvicorn.run(
        APP_FACTORY,
        factory=True,
        workers=count,
        host=host,
        port=port,
        log_level="info",
        log_config=log_config,
    )
