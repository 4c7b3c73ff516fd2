"""Video jobs: the time model, status views, presigned output URLs, and completion in the background.

Time model (all Unix seconds from the injectable clock): a job created at ``t0`` is ``pending`` until
``t0 + queue_s × time_scale``, then ``processing`` for ``estimated speech seconds × time_scale``; once
due, the :class:`JobRunner` ticker hands it to a worker thread that charges the wallet, renders the MP4,
thumbnail and SRT with :mod:`core.sandbox.media`, marks it ``completed`` (or ``failed``) and emits the
webhook. Status is computed lazily from the timestamps on every read; until the completion step has
finished, a due job still reads ``processing``.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import math
import shutil
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from core.sandbox import media
from core.sandbox.faults import Knobs
from core.sandbox.settings import SandboxConfig
from core.sandbox.state import Store
from core.sandbox.videos import FAILED_CREDIT_CODE, FAILED_CREDIT_MESSAGE
from core.sandbox.webhooks_out import Dispatcher

log = logging.getLogger(__name__)

URL_LIFETIME_S = 604_800  # presigned links live 7 days
TICK_S = 0.05
OUTPUT_FILES = ("video.mp4", "captioned.mp4", "thumbnail.jpg", "subtitles.srt")


def status_of(video: dict[str, Any], now: float) -> str:
    """``pending``, ``processing``, ``completed`` or ``failed`` at time ``now``."""
    if video.get("final"):
        return video["final"]
    return "pending" if now < video["created_at"] + video["queue_s"] else "processing"


def due_at(video: dict[str, Any]) -> float:
    """When the render is due to finish (Unix seconds)."""
    return video["created_at"] + video["queue_s"] + video["render_s"]


def signature(secret: str, video_id: str, name: str, expires: int) -> str:
    """HMAC signature of one presigned file URL."""
    message = f"{video_id}/{name}:{expires}".encode()
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()[:40]


def file_url(base_url: str, secret: str, video_id: str, name: str, now: float, expired: bool = False) -> str:
    """A presigned-looking URL ``…/_sandbox/files/<id>/<name>?Expires=<now+7d>&Signature=<hmac>``."""
    expires = int(now) + (-60 if expired else URL_LIFETIME_S)
    sig = signature(secret, video_id, name, expires)
    return f"{base_url}/_sandbox/files/{video_id}/{name}?Expires={expires}&Signature={sig}"


def video_view(video: dict[str, Any], now: float, base_url: str, secret: str, *, expired: bool = False
               ) -> dict[str, Any]:
    """The ``GET /v3/videos/{id}`` object; output URLs are freshly signed on every call."""
    status = status_of(video, now)
    done = status == "completed"
    outputs = video.get("outputs") or {}

    def url(name: str, wanted: bool = True) -> str | None:
        return file_url(base_url, secret, video["id"], name, now, expired) if done and wanted else None

    return {
        "id": video["id"], "title": video.get("title"), "status": status,
        "created_at": int(video["created_at"]),
        "completed_at": video.get("completed_at") if status in ("completed", "failed") else None,
        "duration": video.get("duration") if done else None,
        "video_url": url("video.mp4"),
        "captioned_video_url": url("captioned.mp4", outputs.get("captioned", False)),
        "subtitle_url": url("subtitles.srt", outputs.get("subtitles", False)),
        "thumbnail_url": url("thumbnail.jpg"), "gif_url": url("thumbnail.jpg"),
        "video_page_url": f"{base_url}/_sandbox/videos/{video['id']}" if done else None,
        "folder_id": video.get("folder_id"),
        "failure_code": video.get("failure_code") if status == "failed" else None,
        "failure_message": video.get("failure_message") if status == "failed" else None,
        "output_language": None,
    }


def status_item(video: dict[str, Any] | None, video_id: str, now: float) -> dict[str, Any]:
    """One ``GET /v3/videos/statuses`` item (``queued|processing|completed|failed|not_found``)."""
    if video is None:
        return {"video_id": video_id, "status": "not_found", "error": None}
    status = status_of(video, now)
    error = ({"code": video.get("failure_code"), "message": video.get("failure_message")}
             if status == "failed" else None)
    return {"video_id": video_id, "status": "queued" if status == "pending" else status, "error": error}


def retry_after_s(videos: list[dict[str, Any]], now: float) -> int:
    """Seconds until the first of ``videos`` should finish (≥ 1)."""
    waits = [due_at(v) - now for v in videos if not v.get("stuck")]
    return max(1, math.ceil(min(waits))) if waits else 60


class JobRunner:
    """Ticker thread + render pool that completes due jobs. Start with :meth:`start`, end with :meth:`stop`."""

    def __init__(self, store: Store, config: SandboxConfig, files_dir: Path, dispatcher: Dispatcher,
                 knobs: Knobs) -> None:
        self.store = store
        self.config = config
        self.files_dir = files_dir
        self.dispatcher = dispatcher
        self.knobs = knobs
        self.pool = ThreadPoolExecutor(max_workers=2, thread_name_prefix="sandbox-render")
        self._busy: set[str] = set()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="sandbox-ticker", daemon=True)

    def start(self) -> None:
        """Start the ticker thread."""
        self._thread.start()

    def stop(self) -> None:
        """Stop ticking; renders in progress are abandoned (their jobs are picked up after a restart)."""
        self._stop.set()
        self.pool.shutdown(wait=False, cancel_futures=True)

    def _loop(self) -> None:
        while not self._stop.wait(TICK_S):
            try:
                self.tick()
            except Exception:  # keep ticking whatever happens
                log.exception("sandbox ticker failed")

    def tick(self) -> list[str]:
        """Hand every due, unfinished job to the render pool; returns their ids."""
        now = self.config.clock()
        with self.store.lock:
            due = [v["id"] for v in self.store.data["videos"].values()
                   if not v.get("final") and not v.get("stuck") and v["id"] not in self._busy
                   and now >= due_at(v)]
            self._busy.update(due)
        for video_id in due:
            try:
                self.pool.submit(self._finish_safely, video_id)
            except RuntimeError:
                return []
        return due

    def _finish_safely(self, video_id: str) -> None:
        try:
            self.finish(video_id)
        except Exception:
            log.exception("completing sandbox video %s failed", video_id)
        finally:
            with self.store.lock:
                self._busy.discard(video_id)

    def finish(self, video_id: str) -> None:
        """Complete one due job: forced failure, wallet check + charge, render outputs, webhook."""
        with self.store.lock:
            video = self.store.data["videos"].get(video_id)
            if video is None or video.get("final"):
                return
            if video.get("forced_failure") or self.knobs.take("fail_next"):
                forced = video.get("forced_failure") or {"code": self.knobs.failure_code,
                                                         "message": self.knobs.failure_message}
                return self._fail(video, forced["code"], forced["message"])
            if self.store.data["balance_usd"] < video["cost_usd"]:
                return self._fail(video, FAILED_CREDIT_CODE, FAILED_CREDIT_MESSAGE)
            self.store.data["balance_usd"] = round(self.store.data["balance_usd"] - video["cost_usd"], 4)
            self.store.save()
        try:
            duration = self._render(video)
        except Exception as exc:
            log.warning("sandbox render of %s failed: %s", video_id, exc)
            with self.store.lock:
                self.store.data["balance_usd"] = round(self.store.data["balance_usd"] + video["cost_usd"], 4)
                if video_id in self.store.data["videos"]:
                    self._fail(video, "RENDER_FAILED", "The sandbox could not render the video.")
            return
        with self.store.lock:
            if video_id not in self.store.data["videos"]:  # deleted while rendering: no charge
                self.store.data["balance_usd"] = round(self.store.data["balance_usd"] + video["cost_usd"], 4)
                self.store.save()
                return
            video.update(final="completed", completed_at=int(self.config.clock()), duration=duration)
            self.store.save()
        self._notify(video, "avatar_video.success")

    def _render(self, video: dict[str, Any]) -> float:
        scenes = [media.SceneMedia(s["avatar_name"], s["script"], s["duration_s"], s["background"],
                                   s.get("audio_file"))
                  for s in video["scenes"]]
        estimate = round(sum(s.duration_s for s in scenes), 3)
        if not self.config.render_media:
            return estimate
        folder = self.files_dir / video["id"]
        folder.mkdir(parents=True, exist_ok=True)
        duration = media.render_video(folder / "video.mp4", scenes, aspect_ratio=video["aspect_ratio"],
                                      resolution=video["resolution"])
        media.render_thumbnail(folder / "thumbnail.jpg", scenes[0], video["aspect_ratio"])
        if video["outputs"].get("subtitles"):
            media.write_srt(folder / "subtitles.srt", scenes)
        return round(duration, 3)

    def _fail(self, video: dict[str, Any], code: str, message: str) -> None:
        video.update(final="failed", completed_at=int(self.config.clock()), failure_code=code,
                     failure_message=message)
        self.store.save()
        self._notify(video, "avatar_video.fail")

    def _notify(self, video: dict[str, Any], event_type: str) -> None:
        base = video["base_url"]
        if event_type == "avatar_video.success":
            now = self.config.clock()
            data = {"video_id": video["id"],
                    "url": file_url(base, self.store.secret, video["id"], "video.mp4", now),
                    "callback_id": video.get("callback_id"),
                    "gif_download_url": file_url(base, self.store.secret, video["id"], "thumbnail.jpg", now),
                    "video_share_page_url": f"{base}/_sandbox/videos/{video['id']}",
                    "folder_id": "", "callback_url": video.get("callback_url")}
        else:
            data = {"video_id": video["id"], "msg": video.get("failure_message"),
                    "callback_id": video.get("callback_id")}
        self.dispatcher.emit(video["owner"], event_type, data, video.get("callback_url"))

    def remove_files(self, video_id: str) -> None:
        """Delete a video's output folder (best effort)."""
        shutil.rmtree(self.files_dir / video_id, ignore_errors=True)
