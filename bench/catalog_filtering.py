"""Voices page rerun on a filter change vs a floor page that only draws the same filtered table.

Both scripts run under Streamlit's AppTest in this process, alternately (A, B, B, A, …):

- A, the real page: ``app.py`` then ``switch_page("pages/1_Voices.py")`` (frame, sidebar, filter
  bar with counts, filtering, table with selection); each timed ``at.run()`` follows a change of
  the Language multiselect (``v_lang``) between two languages;
- B, the floor: an ``AppTest.from_string`` script with one multiselect and ``st.dataframe`` of the
  already-filtered frame for that choice (same columns and column config as the page);
- C (for the breakdown only): a script that calls just ``ui.frame.frame`` (page config, sidebar, menu).

Sizes: the real catalog (2,326 voices, from the sandbox) and a 25× synthetic one (~58,000 voices,
:func:`core.catalog.synthetic_voices`). The synthetic catalog reaches the page by replacing, in this
process, the loaded catalog of the process-wide ``runtime.catalog`` (:class:`core.catalog.store.CatalogStore`):
no product code knows about benchmarks. Target: page ≤ 1.3× floor at both sizes. ``--small``: 2× catalog, few runs.
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
import time
import types
from pathlib import Path

from _common import ROOT, figure, median, ms, parser, quiet, rotate

FLOOR_SCRIPT = """
import streamlit as st
import bench_floor_store as store
from ui.columns import VOICE_TABLE_COLUMNS, voice_column_config

choice = st.multiselect("Language", store.OPTIONS, default=store.DEFAULT, key="f_lang")
shown = store.FRAMES[tuple(choice)]
st.dataframe(shown[VOICE_TABLE_COLUMNS], column_config=voice_column_config(), hide_index=True, height=430)
"""

FRAME_SCRIPT = """
from ui.frame import frame

frame("Voices", icon=":material/record_voice_over:")
"""

LANGS = (["English"], ["Spanish"])


def _setup_runtime(tmp: Path):
    env = {"DATA_DIR": str(tmp), "SANDBOX_PORT": "0", "WORKER_MODE": "off", "SANDBOX_TIME_SCALE": "0.01"}
    for key in ("HEYGEN_API_KEY", "DATABASE_URL", "HTTP_CACHE_URL", "HEYGEN_BASE_URL"):
        os.environ.pop(key, None)
    os.environ.update(env)
    from core.runtime import get_runtime, reset_runtime

    reset_runtime()
    return get_runtime()


def _use_catalog(runtime, multiplier: int):
    """Make the pages see the real catalog × ``multiplier``; returns the voices frame of that catalog.

    The hook: the process-wide :class:`core.catalog.store.CatalogStore` (``runtime.catalog``) is given the
    synthetic :class:`core.catalog.store.Catalog` as its loaded, fresh catalog. Nothing in the product changes.
    """
    from bench._common import synthetic_voices
    from core.catalog.index import CatalogIndex
    from core.catalog.store import Catalog
    from core.catalog.tables import voices_frame

    store = runtime.catalog
    base = store.get()
    real = getattr(_use_catalog, "real", None) or base.voices
    _use_catalog.real = real
    voices = synthetic_voices(multiplier, real) if multiplier > 1 else list(real)
    catalog = Catalog(voices, base.looks, CatalogIndex(voices, base.looks), base.fetched_at, base.from_cache)
    with store._lock:
        store._catalog = catalog
        store._loaded_at = time.monotonic()
    return voices_frame(voices)


def measure(runtime, multiplier: int, runs: int) -> dict:
    """Median seconds of one filter-change rerun for the page (A) and the floor (B) at this size."""
    from streamlit.testing.v1 import AppTest

    from core.catalog.tables import VoiceFilter, filter_voices
    frame = _use_catalog(runtime, multiplier)
    n_voices = len(frame)
    store = sys.modules["bench_floor_store"]
    store.OPTIONS = sorted(set(frame["language"]))
    store.DEFAULT = LANGS[0]
    store.FRAMES = {tuple(lang): filter_voices(frame, VoiceFilter(languages=tuple(lang))) for lang in LANGS}

    page = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    page.session_state["me"] = "Bench"
    page.run()
    page.switch_page("pages/1_Voices.py")
    page.run()
    assert not page.exception, page.exception
    floor = AppTest.from_string(FLOOR_SCRIPT, default_timeout=120)
    floor.run()
    assert not floor.exception, floor.exception
    turn = {"page": 0, "floor": 0}

    def rerun(at, key: str, name: str) -> None:
        def go() -> None:
            turn[name] += 1
            at.multiselect(key=key).set_value(LANGS[turn[name] % 2])
            at.run()
            assert not at.exception, at.exception
        return go

    # The frame draws a menu of page links, which Streamlit resolves against the entrypoint and pages/:
    # the frame-only script is the entrypoint (app.py) of a temporary folder linking the project's pages/.
    folder = Path(tempfile.mkdtemp(prefix="bench-frame-"))
    (folder / "pages").symlink_to(ROOT / "pages", target_is_directory=True)
    (folder / "app.py").write_text(FRAME_SCRIPT)
    chrome = AppTest.from_file(str(folder / "app.py"), default_timeout=120)
    chrome.session_state["me"] = "Bench"
    chrome.run()

    def chrome_run() -> None:
        chrome.run()
        assert not chrome.exception, chrome.exception

    page_s, floor_s, frame_s = rotate(runs, [rerun(page, "v_lang", "page"), rerun(floor, "f_lang", "floor"),
                                             chrome_run])
    rows = [len(store.FRAMES[tuple(lang)]) for lang in LANGS]
    shown = page.dataframe[0].value if len(page.dataframe) else None
    if shown is not None and len(shown) not in rows:
        raise AssertionError(f"the page showed {len(shown)} rows, expected one of {rows}")
    shutil.rmtree(folder, ignore_errors=True)
    return {"voices": n_voices, "rows": rows, "page": median(page_s), "floor": median(floor_s), "frame": median(frame_s),
            "page_all": page_s, "floor_all": floor_s}


def main() -> int:
    p = parser(__doc__.splitlines()[0])
    p.add_argument("--sizes", help="catalog multipliers and runs, e.g. 1:200 (for profiling)")
    args = p.parse_args()
    quiet()
    sizes = [(1, 3), (2, 3)] if args.small else [(1, 21), (25, 11)]
    if args.sizes:
        sizes = [tuple(int(x) for x in part.split(":")) for part in args.sizes.split(",")]
    sys.modules["bench_floor_store"] = types.ModuleType("bench_floor_store")
    with tempfile.TemporaryDirectory(prefix="bench-voices-") as tmp:
        runtime = _setup_runtime(Path(tmp))
        try:
            from streamlit.testing.v1 import AppTest

            warm = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
            warm.run()
            warm.switch_page("pages/1_Voices.py")
            warm.run()  # loads the catalog into runtime.catalog (through the sandbox)
            quiet()  # the sandbox's uvicorn reconfigured logging when it started
            worst = 0.0
            for multiplier, runs in sizes:
                r = measure(runtime, multiplier, runs)
                ratio = r["page"] / r["floor"]
                worst = max(worst, ratio)
                figure(f"catalog_{multiplier}x", f"{r['voices']:,} voices; shown rows {r['rows']} "
                       f"(v_lang {LANGS[0][0]} ↔ {LANGS[1][0]}); {runs} alternating runs each")
                figure(f"page_median_{multiplier}x", ms(r["page"]))
                figure(f"floor_median_{multiplier}x", ms(r["floor"]))
                figure(f"frame_only_median_{multiplier}x", f"{ms(r['frame'])} (ui.frame.frame alone: config, "
                       "sidebar, menu; part of every page)")
                figure(f"ratio_{multiplier}x", f"{ratio:.2f}")
        finally:
            from core.runtime import reset_runtime

            reset_runtime()
    figure("RESULT", f"worst ratio {worst:.2f} (target ≤ 1.30) {'PASS' if worst <= 1.3 else 'MISS'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
