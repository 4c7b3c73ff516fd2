"""Offline: no page asks the browser for anything beyond the app and its sandbox on loopback (fonts,
favicons and avatar previews included). Requests elsewhere are recorded and aborted, never sent."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Page, Route

from tests.e2e.conftest import AppServer, open_page

LOCAL_HOSTS = {"localhost", "127.0.0.1", "::1", "[::1]"}


@pytest.fixture
def outside(page: Page) -> list[str]:
    """URLs the page tried to fetch from a host other than loopback (each aborted)."""
    seen: list[str] = []

    def guard(route: Route) -> None:
        url = route.request.url
        if urlsplit(url).scheme in ("http", "https", "ws", "wss") and urlsplit(url).hostname not in LOCAL_HOSTS:
            seen.append(url)
            route.abort()
        else:
            route.continue_()

    page.context.route("**/*", guard)
    return seen


@pytest.mark.parametrize("path", ["/", "/Avatars", "/Voices", "/Settings"])
def test_page_requests_nothing_outside_loopback(page: Page, app_server: AppServer, outside: list[str],
                                                path: str) -> None:
    open_page(page, app_server, path)
    page.wait_for_timeout(1500)  # favicons, fonts and preview media load after the run
    assert outside == []
