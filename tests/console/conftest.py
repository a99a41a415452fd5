"""A real browser for the console's tests: Playwright driving Debian's `chromium` (no browser
download). Without chromium the tests skip, except under CI, where they must run."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from urllib.parse import urlsplit

import pytest

CHROMIUM = "/usr/bin/chromium"


# Module scope: the sync API keeps an event loop running on the main thread while it is open,
# which would make every later test's asyncio.run() fail.
@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if shutil.which("chromium") is None and not os.path.exists(CHROMIUM):
        if os.environ.get("CI") == "true":
            pytest.fail("CI must run the console's browser tests: apt-get install chromium")
        pytest.skip("Debian's chromium is not installed (apt-get install chromium)")
    from playwright.sync_api import expect, sync_playwright

    expect.set_options(timeout=30_000)  # a sample, a refresh, a consumer group's join
    with sync_playwright() as playwright:
        found = playwright.chromium.launch(executable_path=shutil.which("chromium") or CHROMIUM)
        try:
            yield found
        finally:
            found.close()


@contextmanager
def browsing(browser: Any, console_url: str) -> Iterator[Any]:
    """A fresh page; on the way out, checks it asked no host but the console's."""
    context = browser.new_context()
    page = context.new_page()
    asked: list[str] = []
    page.on("request", lambda request: asked.append(request.url))
    page.set_default_timeout(30_000)
    try:
        yield page
    finally:
        context.close()
    own = urlsplit(console_url).netloc
    elsewhere = [url for url in asked if urlsplit(url).netloc != own]
    assert asked, "the page made no request at all"
    assert elsewhere == [], f"requests to other hosts: {elsewhere}"
