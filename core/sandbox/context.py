"""The wiring of one sandbox instance: config, state, catalog, jobs, webhooks, faults, previews."""

from __future__ import annotations

import re
import shutil
import tempfile
import threading
from collections import Counter
from pathlib import Path
from typing import Any

from core.sandbox import media
from core.sandbox.catalog import SandboxCatalog, load_sandbox_catalog
from core.sandbox.faults import FaultPlan, Knobs
from core.sandbox.jobs import JobRunner, status_of
from core.sandbox.own_media import AccountCatalog
from core.sandbox.settings import SandboxConfig
from core.sandbox.state import STATE_FILE, Store
from core.sandbox.webhooks_out import Dispatcher

_SAFE_NAME = re.compile(r"^[A-Za-z0-9_.\-]{1,128}$")


class Sandbox:
    """Everything one sandbox server needs; routes reach it as ``request.app.state.sandbox``."""

    def __init__(self, config: SandboxConfig) -> None:
        self.config = config
        self.root = Path(config.state_dir) if config.state_dir else Path(tempfile.mkdtemp(prefix="heygen-sandbox-"))
        self.files_dir = self.root / "files"
        self.media_dir = self.root / "media"
        self.store = Store(self.root / STATE_FILE if config.state_dir else None, config.balance_usd, config.seed)
        self.catalog: SandboxCatalog = load_sandbox_catalog(include_private=config.include_private,
                                                            include_talking_photos=config.include_talking_photos)
        self.group_cover = {}
        for look in self.catalog.looks:
            self.group_cover.setdefault(look["group_id"], look["id"])
        self.faults = FaultPlan(config.faults, config.seed)
        self.knobs = Knobs()
        self.dispatcher = Dispatcher(self.store, self.knobs, config.clock, config.webhook_timeout_s)
        self.runner = JobRunner(self.store, config, self.files_dir, self.dispatcher, self.knobs)
        self.inflight: set[str] = set()  # idempotency slots whose first request is still running
        self.uvicorn_server: Any = None  # set by start_in_thread / the CLI (used by the "drop" fault)
        self._started = False
        self._lock = threading.Lock()
        self._media_locks: dict[str, threading.Lock] = {}

    def now(self) -> float:
        """Current Unix time from the configured clock."""
        return self.config.clock()

    def start(self) -> None:
        """Start the job ticker once (idempotent)."""
        with self._lock:
            if not self._started:
                self._started = True
                self.runner.start()

    def close(self) -> None:
        """Stop background threads."""
        self.runner.stop()
        self.dispatcher.close()

    def reset(self) -> None:
        """Forget all videos, webhooks and counters; restore balance, faults and knobs."""
        self.store.reset()
        self.faults = FaultPlan(self.config.faults, self.config.seed)
        self.knobs.__init__()
        for child in self.files_dir.glob("*"):  # video outputs only; preview media stays cached
            shutil.rmtree(child, ignore_errors=True)

    def stats(self) -> dict[str, Any]:
        """The ``GET /_sandbox/stats`` document."""
        now = self.now()
        with self.store.lock:
            data = self.store.data
            by_status = Counter(status_of(v, now) for v in data["videos"].values())
            counters = dict(data["counters"])
            return {
                "requests": dict(sorted(self.store.requests.items())),
                "videos_created": counters.get("videos_created", 0),
                "videos_by_status": {s: by_status.get(s, 0) for s in ("pending", "processing", "completed", "failed")},
                "idempotent_replays": counters.get("idempotent_replays", 0),
                "webhook_deliveries": counters.get("webhook_deliveries", 0),
                "webhook_failures": counters.get("webhook_failures", 0),
                "balance_usd": round(data["balance_usd"], 4),
                "faults": self.faults.spec,
                "knobs": self.knobs.as_dict(),
            }

    # ------------------------------------------------------------------ preview media (lazy, cached on disk)

    def preview_file(self, kind: str, item_id: str) -> Path | None:
        """Generate (once) and return the local preview for a voice (``"voice"``, ``.wav``), a look's image
        (``"look"``, ``.jpg``) or a look's video (``"look_video"``, ``.mp4``).

        Returns ``None`` for an unknown id or one whose original preview is null.
        """
        if not _SAFE_NAME.match(item_id):
            return None
        if kind == "voice":
            item = self.catalog.voice(item_id)
            if item is None or item.get("preview_audio_url") is None:
                return None
            path = self.media_dir / "voice" / f"{item_id}.wav"
            make = lambda: media.preview_audio(path, str(item.get("name") or item_id).strip())  # noqa: E731
        else:
            video = kind == "look_video"
            item = self.catalog.look(item_id)
            if item is None or item.get("preview_video_url" if video else "preview_image_url") is None:
                return None
            path = self.media_dir / "look" / f"{item_id}.{'mp4' if video else 'jpg'}"
            args = (str(item.get("name") or item_id), str(item.get("avatar_type") or "").replace("_", " "),
                    item.get("preferred_orientation") or "landscape")
            make = lambda: (media.preview_video if video else media.preview_image)(path, *args)  # noqa: E731
        with self._lock:
            lock = self._media_locks.setdefault(str(path), threading.Lock())
        with lock:
            if not path.exists():
                path.parent.mkdir(parents=True, exist_ok=True)
                make()
        return path

    # ------------------------------------------------------------------ catalog views

    def catalog_for(self, owner: str, base_url: str) -> AccountCatalog:
        """The catalog account ``owner`` sees now: the shared one plus its own looks and voices."""
        with self.store.lock:
            return AccountCatalog(self.catalog, self.store.data, owner, self.now(), base_url)

    def voice_view(self, voice: dict[str, Any], base_url: str) -> dict[str, Any]:
        """A voice (list item or detail) with its preview URL pointing at the local clip."""
        if self.config.original_media or str(voice.get("preview_audio_url") or base_url).startswith(base_url):
            return voice
        return {**voice, "preview_audio_url": f"{base_url}/_sandbox/media/voice/{voice['voice_id']}.wav"}

    def look_view(self, look: dict[str, Any], base_url: str) -> dict[str, Any]:
        """A look with its preview image and video pointing at the local placeholders (null stays null)."""
        return self._local_previews(look, look["id"], base_url)

    def group_view(self, group: dict[str, Any], base_url: str) -> dict[str, Any]:
        """A group with its preview image and video pointing at its first look's placeholders."""
        return self._local_previews(group, self.group_cover.get(group["id"], group["id"]), base_url)

    def _local_previews(self, item: dict[str, Any], look_id: str, base_url: str) -> dict[str, Any]:
        if self.config.original_media:
            return item
        local = {"preview_image_url": f"{base_url}/_sandbox/media/look/{look_id}.jpg",
                 "preview_video_url": f"{base_url}/_sandbox/media/look/{look_id}.mp4"}
        # null stays null; an own photo avatar's preview is already served here (its uploaded image)
        return {**item, **{key: url for key, url in local.items()
                           if item.get(key) is not None and not str(item[key]).startswith(base_url)}}
