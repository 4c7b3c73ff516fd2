"""Process-wide data for pages: the HeyGen catalog, loaded once and shared by every session.

The catalog comes through the HTTP cache (requests-cache), so a warm start makes no HeyGen
calls; this module adds an in-memory copy so reruns do not even re-read the cache.
Only the session that triggers a (re)load draws its progress bar; others wait on the lock.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import streamlit as st

from core.access.actor import Actor
from core.catalog.annotations import annotations_version, get_annotations
from core.catalog.facets import accent_cells, cross_counts
from core.catalog.normalise import locale_label
from core.catalog.store import Catalog
from core.catalog.tables import VoiceFilter, facet_counts, looks_frame, voices_frame
from core.heygen.errors import HeyGenError
from core.runtime import Runtime
from ui.columns import VOICE_TABLE_COLUMNS

#: The Voices table's ▶ Play button label (a voice without a preview has none).
PLAY_LABEL = ":material/play_arrow: Play"


@dataclass
class CatalogView:
    """A loaded catalog plus its display frames (read-only: never mutate the frames)."""

    catalog: Catalog
    voices: pd.DataFrame
    looks: pd.DataFrame
    loaded_at: float


@st.cache_resource(max_entries=2, show_spinner=False)
def _view(_catalog: Catalog, catalog_id: int) -> CatalogView:
    """Display frames of one loaded catalog, built once per process and catalog load."""
    return CatalogView(_catalog, voices_frame(_catalog.voices), looks_frame(_catalog.looks), time.time())


def catalog_view(runtime: Runtime, *, refresh: bool = False, actor: Actor | None = None) -> CatalogView:
    """The shared catalog view (:attr:`core.runtime.Runtime.catalog`), loading it with a progress bar.

    ``refresh`` (past the HTTP cache) is an admin's action and needs ``actor``
    (:class:`~core.access.permissions.PermissionDenied` otherwise).

    On a HeyGen failure with nothing cached, stops the page with the reason and what to do.
    """
    store = runtime.catalog
    # The progress bar's slot is drawn on every run, loading or not: an element drawn only on the run
    # that loads shifts the position of everything after it, and the browser then stops writing
    # URL-bound widgets (bind="query-params") to the address bar after their first change.
    slot = st.empty()
    try:
        if refresh or not store.is_fresh():
            bar = slot.progress(0.0, text="Loading the HeyGen catalog…")
            try:
                catalog = store.get(refresh=refresh, actor=actor, progress=lambda f, msg: bar.progress(
                    min(max(f, 0.0), 1.0), text=msg))
            finally:
                bar.empty()
        else:
            catalog = store.get()
    except HeyGenError as exc:
        st.error(f"The HeyGen catalog could not be loaded. {exc}", icon=":material/cloud_off:")
        st.stop()
    if catalog.stale:  # in the same slot, so the page's elements keep their positions
        when = catalog.fetched_at.strftime("%Y-%m-%d %H:%M UTC") if catalog.fetched_at else "earlier"
        slot.warning(f"HeyGen could not be reached, so this is the catalog saved {when}. "
                   "It refreshes by itself once HeyGen answers again.", icon=":material/cloud_off:")
    return _view(catalog, id(catalog))


#: Facets of the voices table whose value counts are shown next to filter options.
VOICE_FACETS = ("language", "gender", "accents", "styles", "tags", "age_group", "type")


@dataclass(frozen=True)
class VoicesTable:
    """The catalog's voices with the team's annotations merged in, plus facet counts over all of them.

    ``frame`` is a :func:`core.catalog.tables.voices_frame` (read-only); ``counts[facet]`` maps a value to its
    number of voices (:func:`core.catalog.tables.facet_counts`); ``has_preview`` counts voices with a usable
    preview; ``version`` is the annotations version the frame was built from. ``display`` is ``frame``'s
    :data:`ui.columns.VOICE_TABLE_COLUMNS` (rows are picked by a mask on each rerun) with a ▶ Play label
    (:data:`PLAY_LABEL`) where the preview URL was and the Accents cells of
    :func:`core.catalog.facets.accent_cells`; ``accents`` the accent options sorted by label, with their labels.
    """

    frame: pd.DataFrame
    counts: dict[str, dict[str, int]]
    has_preview: int
    version: tuple
    display: pd.DataFrame
    accents: tuple[list[str], dict[str, str]]
    #: :func:`core.catalog.facets.cross_counts` with no filter set (the page's first view), made once.
    unfiltered: dict[str, dict[str, int]] = field(default_factory=dict)


@st.cache_resource(max_entries=4, show_spinner=False)
def _voices_table(_view: CatalogView, _runtime: Runtime, view_key: tuple, version: tuple) -> VoicesTable:
    with _runtime.session_factory() as session:
        annotations = get_annotations(session)
    frame = voices_frame(_view.catalog.voices, annotations)
    counts = {facet: facet_counts(frame, facet) for facet in VOICE_FACETS}
    accents = sorted(counts["accents"], key=locale_label)
    display = frame[VOICE_TABLE_COLUMNS].assign(  # a ▶ Play button label instead of the preview URL
        preview_url=np.where(frame["has_preview"].to_numpy(), PLAY_LABEL, None), accent_labels=accent_cells(frame))
    return VoicesTable(frame, counts, int(frame["has_preview"].sum()), version, display,
                       (accents, {t: locale_label(t) for t in accents}), cross_counts(frame, VoiceFilter()))


#: Seconds an annotations version read is reused: another process's annotation shows within this time,
#: this process's own at once (saving clears :func:`annotations_version_cached`).
ANNOTATIONS_VERSION_TTL_S = 2.0


@st.cache_data(ttl=ANNOTATIONS_VERSION_TTL_S, max_entries=8, show_spinner=False)
def annotations_version_cached(_runtime: Runtime, base_url: str) -> tuple:
    """``(count, latest ISO time)`` of the annotations (:func:`core.catalog.annotations.annotations_version`),
    read at most once per :data:`ANNOTATIONS_VERSION_TTL_S` seconds for all sessions of this process."""
    with _runtime.session_factory() as session:
        count, latest = annotations_version(session)
    return (count, latest.isoformat() if latest else "")


def voices_table(runtime: Runtime, view: CatalogView) -> VoicesTable:
    """The annotated voices table, rebuilt only when the catalog or an annotation changed.

    Reads the annotations version (one aggregate query) at most every
    :data:`ANNOTATIONS_VERSION_TTL_S` seconds per process; the table itself is shared by every session
    (never mutate it).
    """
    version = annotations_version_cached(runtime, runtime.base_url)
    return _voices_table(view, runtime, (runtime.base_url, view.loaded_at), version)


def loaded_catalog(runtime: Runtime) -> CatalogView | None:
    """The catalog view if this process has loaded it already (never triggers a load)."""
    catalog = runtime.catalog.current
    return None if catalog is None else _view(catalog, id(catalog))
