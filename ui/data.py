"""Process-wide data for pages: the HeyGen catalog, loaded once and shared by every session.

The catalog comes through the HTTP cache (requests-cache), so a warm start makes no HeyGen
calls; this module adds an in-memory copy so reruns do not even re-read the cache.
Only the session that triggers a (re)load draws its progress bar; others wait on the lock.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass

import pandas as pd
import streamlit as st

from core.annotations import annotations_version, get_annotations
from core.catalog import Catalog, facet_counts, load_catalog, looks_frame, voices_frame
from core.heygen.errors import HeyGenError
from core.runtime import Runtime


@dataclass
class CatalogView:
    """A loaded catalog plus its display frames (read-only: never mutate the frames)."""

    catalog: Catalog
    voices: pd.DataFrame
    looks: pd.DataFrame
    loaded_at: float
    error: str | None = None


class _CatalogHolder:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.view: CatalogView | None = None

    def get(self, runtime: Runtime, *, refresh: bool = False) -> CatalogView:
        ttl = runtime.settings.catalog_cache_seconds
        with self.lock:
            fresh = self.view is not None and time.time() - self.view.loaded_at < ttl
            if fresh and not refresh:
                return self.view
            self.view = self._load(runtime, refresh=refresh)
            return self.view

    def _load(self, runtime: Runtime, *, refresh: bool) -> CatalogView:
        bar = st.progress(0.0, text="Loading the HeyGen catalog…")

        def progress(fraction: float, message: str) -> None:
            bar.progress(min(max(fraction, 0.0), 1.0), text=message)

        try:
            catalog = load_catalog(runtime.client, refresh=refresh, progress=progress)
        finally:
            bar.empty()
        return CatalogView(catalog, voices_frame(catalog.voices), looks_frame(catalog.looks), time.time())


@st.cache_resource(show_spinner=False)
def _holder(base_url: str) -> _CatalogHolder:
    """One holder per HeyGen base URL (the sandbox's port differs between runtimes in tests)."""
    return _CatalogHolder()


def catalog_view(runtime: Runtime, *, refresh: bool = False) -> CatalogView:
    """The shared catalog view; on a HeyGen failure with nothing cached, stop the page with the reason."""
    try:
        return _holder(runtime.base_url).get(runtime, refresh=refresh)
    except HeyGenError as exc:
        st.error(f"The HeyGen catalog could not be loaded. {exc}", icon=":material/cloud_off:")
        st.stop()


#: Facets of the voices table whose value counts are shown next to filter options.
VOICE_FACETS = ("language", "gender", "accents", "styles", "tags", "age_group", "type")


@dataclass(frozen=True)
class VoicesTable:
    """The catalog's voices with the team's annotations merged in, plus facet counts over all of them.

    ``frame`` is a :func:`core.catalog.voices_frame` (read-only); ``counts[facet]`` maps a value to its
    number of voices (:func:`core.catalog.facet_counts`); ``has_preview`` counts voices with a usable
    preview; ``version`` is the annotations version the frame was built from.
    """

    frame: pd.DataFrame
    counts: dict[str, dict[str, int]]
    has_preview: int
    version: tuple


@st.cache_resource(max_entries=4, show_spinner=False)
def _voices_table(_view: CatalogView, _runtime: Runtime, view_key: tuple, version: tuple) -> VoicesTable:
    with _runtime.session_factory() as session:
        annotations = get_annotations(session)
    frame = voices_frame(_view.catalog.voices, annotations)
    counts = {facet: facet_counts(frame, facet) for facet in VOICE_FACETS}
    return VoicesTable(frame, counts, int(frame["has_preview"].sum()), version)


def voices_table(runtime: Runtime, view: CatalogView) -> VoicesTable:
    """The annotated voices table, rebuilt only when the catalog or an annotation changed.

    Costs one aggregate query per call (:func:`core.annotations.annotations_version`); the table itself
    is shared by every session (never mutate it).
    """
    with runtime.session_factory() as session:
        count, latest = annotations_version(session)
    version = (count, latest.isoformat() if latest else "")
    return _voices_table(view, runtime, (runtime.base_url, view.loaded_at), version)


def loaded_catalog(runtime: Runtime) -> CatalogView | None:
    """The catalog view if this process has loaded it already (never triggers a load)."""
    return _holder(runtime.base_url).view
