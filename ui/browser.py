"""What Streamlit's Python API cannot express, done in the browser with fixed CSS and scripts.

Everything here is a constant written by us (no user text is ever put into this HTML), drawn with
``st.html``: CSS for narrow screens, a sticky launch bar, and keyboard focus that looks unlike the
current page; three tiny scripts that scroll a keyed container into view, collapse an expander on
narrow screens, and let Space/Enter select a table row (Streamlit's grid selects rows with
Shift+Space only). Each script acts once per mount of its element, so a rerun does not repeat it.
"""

from __future__ import annotations

import json
import re

import streamlit as st

#: Below this width (CSS pixels) the layout is "narrow" (Streamlit stacks columns at 640 px).
NARROW_PX = 640

_KEY_CHARS = re.compile(r"[^A-Za-z0-9_-]")

_BASE_CSS = """
<style>
/* Keyboard focus in the sidebar menu: a ring, never the current page's fill. */
[data-testid="stSidebar"] a[data-testid="stPageLink-NavLink"]:focus-visible {
  outline: 2px solid #5B4BDB; outline-offset: -2px;
}
/* A sticky bar (the Compose launch bar) stays in view while the page scrolls under it. */
div[data-testid="stLayoutWrapper"]:has(> .st-key-c_launch_bar) {
  position: sticky; top: 3.75rem; z-index: 99; background: var(--st-background-color, #fff);
  box-shadow: 0 6px 8px -8px rgba(0, 0, 0, .35);
}
.st-key-c_launch_bar [data-testid="stMetric"] { min-width: 6.5rem; }
@media (max-width: 640px) {
  .st-key-c_launch_bar [data-testid="stMetricValue"] { font-size: 1.2rem; }
  .st-key-c_launch_bar { gap: .25rem .75rem; padding: .5rem .75rem; }
  .st-key-c_launch_bar [data-testid="stCaptionContainer"] { display: none; }
}
</style>
"""


def css_key(key: str) -> str:
    """The class Streamlit gives a keyed element: ``st-key-<key>`` with other characters as ``-``."""
    return "st-key-" + _KEY_CHARS.sub("-", key)


def page_style(current_href: str) -> None:
    """Draw the shared CSS; ``current_href`` is the current page's menu link (``"Voices"``, ``""``
    for Home), which gets a bar on its left so it never looks like a merely focused link."""
    href = json.dumps(current_href)
    current = (f'[data-testid="stSidebar"] a[data-testid="stPageLink-NavLink"][href={href}]'
               " { box-shadow: inset 3px 0 0 #5B4BDB; font-weight: 600; }\n"
               f'[data-testid="stSidebar"] a[data-testid="stPageLink-NavLink"]:not([href={href}]):focus'
               " { background-color: transparent; }")
    st.html(_BASE_CSS + f"<style>{current}</style>")


def _script(body: str) -> None:
    # Streamlit sanitises st.html with DOMPurify, which drops a script containing "<" before a word
    # character; the scripts here are written without "<".
    if "<" in body:
        raise ValueError("A script for st.html must not contain '<'.")
    st.html(f"<script>{body}</script>", unsafe_allow_javascript=True)


def scroll_into_view(key: str) -> None:
    """Scroll the element with widget/container ``key`` into view once it is drawn (tries for 3 s)."""
    selector = json.dumps("." + css_key(key))
    _script(
        "(function(){let n=0;const go=()=>{const el=document.querySelector(" + selector + ");"
        "if(el){el.scrollIntoView({behavior:'smooth',block:'start'});}else if(30>n++){setTimeout(go,100);}};"
        "setTimeout(go,50);})();"
    )


def collapse_when_narrow(key: str) -> None:
    """Close the expander with ``key`` once if the window is narrower than :data:`NARROW_PX`."""
    selector = json.dumps("." + css_key(key) + " details")
    _script(
        "(function(){if(window.innerWidth>" + str(NARROW_PX) + ")return;let n=0;const go=()=>{"
        "const d=document.querySelector(" + selector + ");"
        "if(d){if(d.open){d.querySelector('summary').click();}}else if(30>n++){setTimeout(go,100);}};"
        "setTimeout(go,50);})();"
    )


def keyboard_row_selection() -> None:
    """Let Space and Enter select the focused row of any selectable table (as Shift+Space does)."""
    _script(
        "(function(){if(window.__rsRowKeys)return;window.__rsRowKeys=true;"
        "document.addEventListener('keydown',function(e){"
        "if((e.key!==' '&&e.key!=='Enter')||e.shiftKey||e.ctrlKey||e.metaKey||e.altKey)return;"
        "const t=e.target;if(!t||!t.closest||!t.closest('[data-testid=\"stDataFrame\"]'))return;"
        "if(!(t.matches('td[role=gridcell]')||t.closest('[data-testid=\"stDataFrameResizable\"]')))return;"
        "e.preventDefault();e.stopPropagation();"
        "t.dispatchEvent(new KeyboardEvent('keydown',{key:' ',code:'Space',shiftKey:true,bubbles:true}));"
        "},true);})();"
    )


def autosave_text_areas(selector: str, idle_ms: int = 1000) -> None:
    """Commit the text areas matching ``selector`` after ``idle_ms`` without typing, as Ctrl+Enter does.

    Streamlit sends a text area's value only when it loses focus or on Ctrl+Enter (``st.text_area`` has
    no ``live`` mode in 1.67), so text typed just before a reload was lost. The caret and focus stay put.
    """
    sel = json.dumps(selector)
    _script(
        "(function(){if(window.__rsAutosave)return;window.__rsAutosave=true;const timers=new WeakMap();"
        "document.addEventListener('input',function(e){const t=e.target;"
        "if(!t||t.tagName!=='TEXTAREA'||!t.closest(" + sel + "))return;"
        "clearTimeout(timers.get(t));timers.set(t,setTimeout(function(){if(!t.isConnected)return;"
        "t.dispatchEvent(new KeyboardEvent('keydown',{key:'Enter',code:'Enter',ctrlKey:true,bubbles:true}));"
        "}," + str(int(idle_ms)) + "));},true);})();"
    )
