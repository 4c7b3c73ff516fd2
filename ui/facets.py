"""Filter options that show their counts ("Spanish (106)") and keep raw values in the URL.

Streamlit's ``bind="query-params"`` would store a widget's *formatted* option in the URL
(``?v_lang=Spanish+%28106%29``), which breaks as soon as the count changes, and it drops a
hand-written raw value (``?v_lang=Spanish``) from the address bar after the first run. So the
option widgets here are not bound; instead, on every run:

1. :func:`seed_from_url` gives a widget with no state yet its value from the URL (raw option,
   current label, or an old label whose count differs; unknown values are dropped);
2. :func:`repin` rewrites the widget's state as raw options, because its labels (the counts)
   change from run to run and Streamlit would otherwise drop a selection whose label changed;
3. after drawing, :func:`sync_url` writes the raw values back (``?v_lang=Spanish&v_accent=es-MX``),
   so a link survives a reload and a copy.
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
    """Before drawing the option widget ``key``: if it has no state yet, take its value from the URL.

    ``multi`` False: the first matching value (selectbox, single pills/segmented control).
    """
    if key in st.session_state:
        return
    raw = st.query_params.get_all(key)
    if not raw:
        return
    picked = match_options(raw, options, lambda o: fmt(o) if o in options else str(o))
    if multi:
        st.session_state[key] = picked
    elif picked:
        st.session_state[key] = picked[0]


def current(key: str, options: Sequence[str], *, multi: bool = True) -> list[str] | str | None:
    """The raw option(s) widget ``key`` holds (unknown values dropped), read before it is drawn."""
    value = st.session_state.get(key)
    if multi:
        values = value if isinstance(value, list | tuple) else []
        return [v for v in dict.fromkeys(values) if v in options]
    return value if value in options else None


def repin(key: str, options: Sequence[str], *, multi: bool = True) -> None:
    """Write widget ``key``'s state back as raw options (see the module docstring, step 2)."""
    if key in st.session_state:
        st.session_state[key] = current(key, options, multi=multi)


def sync_url(key: str, value: Sequence[str] | str | bool | None) -> None:
    """Put the raw ``value`` of filter ``key`` into the URL (removed when empty/None/False); writes
    only when it differs, so an unchanged rerun sends nothing to the browser."""
    if value is None or value is False or value == "" or (isinstance(value, list | tuple) and not value):
        wanted: list[str] = []
    elif isinstance(value, list | tuple):
        wanted = [str(v) for v in value]
    else:
        wanted = ["true" if value is True else str(value)]
    if st.query_params.get_all(key) == wanted:
        return
    if wanted:
        st.query_params[key] = wanted if len(wanted) > 1 else wanted[0]
    else:
        st.query_params.pop(key, None)
