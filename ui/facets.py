"""Filter options that show their counts ("Spanish (106)") and still work from plain links.

Streamlit's ``bind="query-params"`` stores a widget's *formatted* option in the URL, so with counts
in the labels a link reads ``?v_lang=Spanish (106)`` and would stop working when the count changes.
:func:`seed_from_url` runs before such a widget is drawn and accepts, for each URL value, the raw
option (``?v_lang=Spanish``, ``?v_accent=es-MX``), the current label, or an old label whose count
differs; unknown values are dropped. The widget then keeps the state and the URL as usual.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence

import streamlit as st

_COUNT_SUFFIX = re.compile(r"^(.*?)\s*\([\d,.]+\)\s*$")


def counted(counts: Mapping[str, int], labels: Mapping[str, str] | None = None) -> Callable[[str], str]:
    """``format_func`` that shows an option with its count: ``"Spanish (106)"``, ``"Female (1,084)"``."""

    def fmt(value: str) -> str:
        label = labels.get(value, value) if labels else value
        return f"{label} ({counts.get(value, 0):,})"

    return fmt


def strip_count(text: str) -> str:
    """``"Spanish (106)"`` -> ``"Spanish"``; text without a count suffix is returned stripped."""
    match = _COUNT_SUFFIX.match(text or "")
    return (match.group(1) if match else text or "").strip()


def match_options(values: Sequence[str], options: Sequence[str], fmt: Callable[[str], str]) -> list[str]:
    """The options named by ``values`` (raw value, current label, or label with another count), in URL order."""
    exact = {fmt(o): o for o in options}
    exact.update({str(o): o for o in options})
    loose = {strip_count(fmt(o)).casefold(): o for o in options}
    loose.update({str(o).casefold(): o for o in options})
    picked: list[str] = []
    for text in values:
        option = exact.get(text)
        if option is None:
            option = loose.get(strip_count(text).casefold())
        if option is not None and option not in picked:
            picked.append(option)
    return picked


def seed_from_url(key: str, options: Sequence[str], fmt: Callable[[str], str], *, multi: bool = True) -> None:
    """Before drawing the bound widget ``key``: if it has no state yet, take its value from the URL.

    ``multi`` False: the first matching value (selectbox, single pills/segmented control).
    Known limit (Streamlit 1.67): when the URL held raw values rather than the widget's labels, Streamlit
    drops the parameter from the address bar after the first run; the filter applies, and the URL shows it
    again as soon as any filter changes.
    """
    if key in st.session_state:
        return
    raw = st.query_params.get_all(key)
    if not raw:
        return
    picked = match_options(raw, options, fmt)
    if multi:
        st.session_state[key] = picked
    elif picked:
        st.session_state[key] = picked[0]
