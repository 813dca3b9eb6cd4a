"""Fixtures of the browser tests: Debian's chromium driven by Playwright (one browser per
session, never downloaded), and a real uvicorn server per module over a SQLite database,
its hub on a clock that only moves when a test says so.

Without chromium the tests fail with a message saying how to install it; a developer may
opt out explicitly with ``RELEVO_SKIP_BROWSER_TESTS=1``, which CI (``CI`` set) ignores.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, Playwright, sync_playwright

from .server import Server, serve

#: Where a non-standard chromium lives (default: Debian's package).
CHROMIUM_ENV = "RELEVO_CHROMIUM"
#: Set to 1 to skip the browser tests on a machine without chromium (developers only).
OPT_OUT_ENV = "RELEVO_SKIP_BROWSER_TESTS"
#: Screenshots of the main states, for people to look at (gitignored).
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
#: A phone and a laptop.
PHONE = {"width": 360, "height": 780}
DESKTOP = {"width": 1280, "height": 900}


def chromium_path() -> str | None:
    """The chromium executable: ``RELEVO_CHROMIUM``, Debian's binary, or one on PATH."""
    configured = os.environ.get(CHROMIUM_ENV)
    if configured:
        return configured if os.access(configured, os.X_OK) else None
    # The real binary rather than Debian's wrapper script, which only adds desktop flags.
    for candidate in ("/usr/lib/chromium/chromium", "/usr/bin/chromium"):
        if os.access(candidate, os.X_OK):
            return candidate
    return shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.fixture(scope="session")
def playwright_session() -> Iterator[Playwright]:
    """Playwright's driver, started once."""
    with sync_playwright() as driver:
        yield driver


@pytest.fixture(scope="session")
def browser(playwright_session: Playwright) -> Iterator[Browser]:
    """One headless chromium for the whole session."""
    executable = chromium_path()
    if executable is None:
        # The opt-out is for developers: CI runs the browser tests or fails.
        if os.environ.get(OPT_OUT_ENV) == "1" and not os.environ.get("CI"):
            pytest.skip(f"no chromium and {OPT_OUT_ENV}=1: browser tests skipped on request")
        pytest.fail(
            "The browser tests need Debian's chromium and cannot find it. "
            "Run `make test` (it installs it with apt-get), or `apt-get install chromium`, "
            f"or point {CHROMIUM_ENV} at a chromium binary. Developers without one may set "
            f"{OPT_OUT_ENV}=1 to skip these tests.",
            pytrace=False,
        )
    launched = playwright_session.chromium.launch(
        executable_path=executable,
        headless=True,
        # Closed network, running as root: no sandbox, no phoning home.
        args=[
            "--no-sandbox",
            "--disable-background-networking",
            "--disable-component-update",
        ],
    )
    yield launched
    launched.close()


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """A real server on 127.0.0.1 for this module's tests, on its own SQLite database."""
    with serve(tmp_path_factory.mktemp("browser")) as running:
        yield running


@pytest.fixture
def locale() -> str:
    """The browser's language (a test may parametrize it): Spanish from Spain."""
    return "es-ES"


@pytest.fixture
def context(browser: Browser, server: Server, locale: str) -> Iterator[BrowserContext]:
    """A fresh browser profile (no cookies) at phone width, its addresses relative to the
    server, in the browser language ``locale``."""
    opened = browser.new_context(base_url=server.base_url, viewport=PHONE, locale=locale)
    opened.set_default_timeout(5_000)
    yield opened
    opened.close()


@pytest.fixture
def page(context: BrowserContext) -> Page:
    """A tab in ``context``."""
    return context.new_page()
