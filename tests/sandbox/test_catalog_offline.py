"""HeyGen unreachable at start-up: the app opens on the cached catalog and says so."""

from __future__ import annotations

import time

from core.catalog.store import CatalogStore, load_catalog
from core.config import SANDBOX_API_KEY
from core.heygen import HeyGenClient


def test_an_expired_cached_catalog_is_served_and_flagged_when_heygen_is_down(sandbox_factory, tmp_path):
    cache = str(tmp_path / "http_cache_sandbox.sqlite")
    server = sandbox_factory()
    warm = load_catalog(HeyGenClient(SANDBOX_API_KEY, base_url=server.url, cache_location=cache, catalog_ttl_s=1))
    assert not warm.stale and len(warm.voices) == 2326
    time.sleep(1.2)  # let the cached pages expire
    server.stop()

    offline = HeyGenClient(SANDBOX_API_KEY, base_url=server.url, cache_location=cache, catalog_ttl_s=1,
                           max_retries=0)
    store = CatalogStore(offline, ttl_s=3600)
    catalog = store.get()
    assert catalog.stale and catalog.from_cache
    assert [v.voice_id for v in catalog.voices] == [v.voice_id for v in warm.voices]
    assert len(catalog.looks) == len(warm.looks)
    # A stale catalog is not kept for the whole cache lifetime: it is retried after minutes.
    assert store.ttl_s > store.STALE_RETRY_S


def test_a_fresh_load_is_not_flagged_stale(sandbox_client):
    catalog = load_catalog(sandbox_client)
    assert not catalog.stale and len(catalog.looks) > 1000
