"""Serve the app (``app.py``) or the floor app (``bench/_floor_app.py``) for ``bench/browser.py``.

``python bench/_browser_app.py SCRIPT PORT MULTIPLIER`` builds the process runtime first (database
from ``DATABASE_URL``, in-process sandbox, ``WORKER_MODE`` from the environment), loads the catalog,
gives the process-wide :class:`core.catalog.store.CatalogStore` the catalog × ``MULTIPLIER`` (the same
hook as ``bench/catalog_filtering.py``; ``1`` keeps the real catalog), and then runs
``streamlit run SCRIPT`` in this same process, so every page run sees that runtime. No product code
knows about benchmarks.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def install_catalog(multiplier: int) -> int:
    """Build the runtime, load the catalog and replace it by the catalog × ``multiplier``; voices served."""
    from bench._common import synthetic_voices
    from core.catalog.index import CatalogIndex
    from core.catalog.store import Catalog
    from core.runtime import get_runtime

    store = get_runtime().catalog
    base = store.get()
    if multiplier > 1:
        voices = synthetic_voices(multiplier, base.voices)
        catalog = Catalog(voices, base.looks, CatalogIndex(voices, base.looks), base.fetched_at, base.from_cache)
        with store._lock:
            store._catalog = catalog
            store._loaded_at = time.monotonic()
    store.ttl_s = 10 * 24 * 3600.0  # no reload during a run: the synthetic catalog stays
    return len(store.current.voices)


def main() -> None:
    script, port, multiplier = sys.argv[1], sys.argv[2], int(sys.argv[3])
    voices = install_catalog(multiplier)
    print(f"catalog ready: {voices} voices", flush=True)
    from streamlit.web import cli

    sys.argv = ["streamlit", "run", script, "--server.headless", "true", "--server.port", port,
                "--server.address", "127.0.0.1", "--server.fileWatcherType", "none",
                "--browser.gatherUsageStats", "false", "--global.developmentMode", "false",
                "--client.showErrorDetails", "full"]
    cli.main()


if __name__ == "__main__":
    main()
