"""Small page building blocks: a page link that tolerates a missing page, status badges, the browser's time zone."""

from __future__ import annotations

from datetime import UTC, tzinfo
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import streamlit as st

from core.board.text import status_label

ROOT = Path(__file__).resolve().parent.parent


def page_link(page: str, label: str, *, icon: str | None = None, query_params: dict[str, Any] | None = None,
              help: str | None = None, **kwargs: Any) -> None:
    """Link to ``page`` (a path relative to ``app.py``, e.g. ``"pages/5_Videos.py"``), keeping the session.

    Draws nothing when the page file does not exist, so one missing page cannot break another.
    """
    if not (ROOT / page).is_file():
        return
    st.page_link(page, label=label, icon=icon, query_params=query_params, help=help, **kwargs)


def browser_timezone() -> str:
    """The browser's IANA time zone (``st.context.timezone``), ``"UTC"`` when unknown (tests, old browsers)."""
    try:
        return st.context.timezone or "UTC"
    except Exception:  # no browser context
        return "UTC"


def browser_tzinfo() -> tzinfo:
    """:func:`browser_timezone` as a ``tzinfo`` (UTC when the name is unknown)."""
    try:
        return ZoneInfo(browser_timezone())
    except (ZoneInfoNotFoundError, ValueError):
        return UTC


#: Streamlit badge colour per reel status (the board's colour code in markdown).
BADGE_COLORS = {"draft": "gray", "queued": "blue", "submitting": "blue", "pending": "violet",
                "processing": "orange", "completed": "green", "failed": "red", "cancelled": "gray"}


def status_badge(status: str) -> str:
    """Markdown for a coloured status badge, e.g. ``:red-badge[Failed]``."""
    return f":{BADGE_COLORS.get(status, 'gray')}-badge[{status_label(status)}]"


def share_base() -> str:
    """The app's address as the browser sees it (``https://reels.example.com``), for links to copy; ``""``
    when unknown (tests). Taken from ``st.context.url`` (the browser's own URL, not a forwarded header)."""
    try:
        url = st.context.url or ""
    except Exception:  # no browser session (bare mode)
        return ""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}" if parts.scheme and parts.netloc else ""
