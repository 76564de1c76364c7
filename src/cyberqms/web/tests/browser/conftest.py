"""Fixtures for the browser journeys: Debian's Chromium driven by Playwright's sync API.

Each test gets pages whose console errors, uncaught script errors and Content-Security-Policy
violations are collected into ``page.console_errors`` (the app runs under a strict CSP, so
any entry there is a real defect), and leaves a full-page screenshot of every page it opened
in ``test-artifacts/screenshots/<test-name>.png``.
"""

from __future__ import annotations

import os
import re
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = "/usr/bin/chromium"
LAUNCH_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
CSP_REPORTER = """
document.addEventListener("securitypolicyviolation", (e) => console.error(
  `CSP violation: ${e.effectiveDirective} blocked ${e.blockedURI || "inline code"}`
  + ` at ${e.sourceFile || document.location.pathname}:${e.lineNumber}`));
"""
SCREENSHOT_DIR = Path(__file__).resolve().parents[5] / "test-artifacts" / "screenshots"


ASYNC_UNSAFE = "DJANGO_ALLOW_ASYNC_UNSAFE"


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """Chromium for one test module.

    Playwright's sync API keeps an asyncio event loop running in the test thread while it
    is started, and Django refuses ORM calls from a thread with a running loop
    (SynchronousOnlyOperation). Browser tests touch the ORM and the browser in turn from one
    thread, never concurrently, so Django's guard is lifted while, and only while, the
    browser is up: every other test (the asyncio listener tests among them) keeps it."""
    if not os.access(CHROMIUM, os.X_OK):
        pytest.fail(
            f"{CHROMIUM} is missing: the browser tests drive Debian's Chromium. "
            "Run `make test` (it installs the chromium package) or `apt-get install chromium`.",
            pytrace=False,
        )
    from playwright.sync_api import sync_playwright

    previous = os.environ.get(ASYNC_UNSAFE)
    os.environ[ASYNC_UNSAFE] = "true"
    playwright = sync_playwright().start()
    try:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=LAUNCH_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()
    finally:
        playwright.stop()
        if previous is None:
            os.environ.pop(ASYNC_UNSAFE, None)
        else:
            os.environ[ASYNC_UNSAFE] = previous


@pytest.fixture(scope="session")
def live_server(live_server: Any) -> Any:
    """pytest-django's live server, answering one request at a time when the test database
    is SQLite in memory.

    Its threads then share the test's one connection (Django's design: an in-memory
    database exists only in that connection), and Python's sqlite3 module caches prepared
    statements per connection: two threads running the same query at once (two open pages
    polling the alert banner) can trip `sqlite3.InterfaceError: bad parameter or other API
    misuse`. The lock serializes the requests, body included (a streamed CSV reads the
    database while it is sent); connections stay concurrent, as a browser opens them."""
    from django.db import connection

    if connection.vendor != "sqlite" or not connection.is_in_memory_db():
        return live_server
    server = live_server.thread.httpd
    app = server.get_app()
    lock = threading.Lock()

    def one_at_a_time(environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        with lock:
            result = app(environ, start_response)
            try:
                return [b"".join(result)]
            finally:
                close = getattr(result, "close", None)
                if close is not None:
                    close()

    server.set_app(one_at_a_time)
    return live_server


@pytest.fixture
def open_page(
    browser: Any, live_server: Any, transactional_db: Any, request: pytest.FixtureRequest
) -> Iterator[Callable[[], Any]]:
    """Open a page in a fresh browser context (its own cookies: one person per context).

    The page carries ``console_errors``: console messages of type error (CSP violations,
    failed resource loads) and uncaught exceptions in page scripts, each prefixed with the
    page's URL and followed by the URL of the resource concerned.
    """
    from django.core.cache import cache

    # allauth remembers used TOTP codes in the cache to refuse replays; user ids repeat
    # across tests, so a code used in one test must not be refused in the next.
    cache.clear()
    opened: list[tuple[Any, Any]] = []

    def new_page() -> Any:
        context = browser.new_context(base_url=live_server.url)
        # Chromium also logs violations itself; this names them unmistakably.
        context.add_init_script(CSP_REPORTER)
        context.set_default_timeout(10_000)
        page = context.new_page()
        errors: list[str] = []

        def on_console(message: Any) -> None:
            if message.type == "error":
                source = message.location.get("url") or ""
                errors.append(f"{page.url}: {message.text}" + (f" [{source}]" if source else ""))

        page.on("console", on_console)
        page.on("pageerror", lambda error: errors.append(f"{page.url}: uncaught {error}"))
        page.console_errors = errors
        opened.append((context, page))
        return page

    yield new_page

    SCREENSHOT_DIR.mkdir(parents=True, exist_ok=True)
    stem = re.sub(r"[^A-Za-z0-9_.-]+", "_", request.node.name)
    for index, (context, page) in enumerate(opened):
        suffix = "" if index == 0 else f"-{index + 1}"
        try:
            if not page.is_closed():
                page.screenshot(path=str(SCREENSHOT_DIR / f"{stem}{suffix}.png"), full_page=True)
        finally:
            context.close()


@pytest.fixture
def page(open_page: Callable[[], Any]) -> Any:
    return open_page()
