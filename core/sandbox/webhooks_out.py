"""Outgoing webhooks: event log, signed deliveries to registered endpoints, unsigned ``callback_url`` POSTs.

Payload ``{"event_type": "avatar_video.success"|"avatar_video.fail", "event_data": {...}}`` (docs §7.2).
Registered endpoints get ``Signature`` and ``X-HeyGen-Signature`` = lower-case hex HMAC-SHA256 of the
raw body keyed with the endpoint secret (docs §7.3); a job's ``callback_url`` gets the same body
unsigned (§7.4). Deliveries run on a small thread pool with a short timeout, are counted in the stats
and are not retried.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import json
import logging
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from typing import Any

from core.sandbox.faults import Knobs
from core.sandbox.state import Store

log = logging.getLogger(__name__)

#: The 30 v3 event types (GET /v3/webhooks/event-types), with a short description each.
EVENT_TYPES: list[tuple[str, str]] = [
    ("avatar_video.success", "An avatar video finished rendering."),
    ("avatar_video.fail", "An avatar video failed to render."),
    ("avatar_video_gif.success", "The GIF preview of a video is ready."),
    ("avatar_video_gif.fail", "The GIF preview of a video failed."),
    ("avatar_video_caption.success", "The captioned version of a video is ready."),
    ("avatar_video_caption.fail", "The captioned version of a video failed."),
    ("video_translate.success", "A video translation finished."),
    ("video_translate.fail", "A video translation failed."),
    ("video_translate.preflight.validation_failed", "A translation input failed validation."),
    ("video_translate.preflight.download_failed", "A translation input could not be downloaded."),
    ("personalized_video", "A personalized video changed state."),
    ("instant_avatar.success", "An instant avatar is ready."),
    ("instant_avatar.fail", "An instant avatar failed."),
    ("photo_avatar_generation.success", "Photo avatar generation finished."),
    ("photo_avatar_generation.fail", "Photo avatar generation failed."),
    ("photo_avatar_train.success", "Photo avatar training finished."),
    ("photo_avatar_train.fail", "Photo avatar training failed."),
    ("photo_avatar_add_motion.success", "Motion was added to a photo avatar."),
    ("photo_avatar_add_motion.fail", "Adding motion to a photo avatar failed."),
    ("proofread_creation.success", "A translation proofread is ready."),
    ("proofread_creation.fail", "A translation proofread failed."),
    ("live_avatar.success", "A live avatar stream finished."),
    ("live_avatar.fail", "A live avatar stream failed."),
    ("video_agent.success", "A video agent run produced its video."),
    ("video_agent.fail", "A video agent run failed."),
    ("hyperframes_video.success", "A hyperframes video finished."),
    ("hyperframes_video.fail", "A hyperframes video failed."),
    ("ai_clipping.success", "An AI clipping job finished."),
    ("ai_clipping.fail", "An AI clipping job failed."),
    ("batch.finished", "Every item of a batch reached a terminal state."),
]


def sign(body: bytes, secret: str) -> str:
    """Hex HMAC-SHA256 of ``body`` keyed with ``secret`` (UTF-8)."""
    return hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def iso(ts: float) -> str:
    """Unix seconds → ISO 8601 UTC string (``2026-11-21T10:00:00Z``)."""
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class Dispatcher:
    """Records events and delivers them in the background."""

    def __init__(self, store: Store, knobs: Knobs, clock, timeout_s: float = 3.0) -> None:
        self.store = store
        self.knobs = knobs
        self.clock = clock
        self.timeout_s = timeout_s
        self.pool = ThreadPoolExecutor(max_workers=4, thread_name_prefix="sandbox-webhook")

    def emit(self, owner: str, event_type: str, event_data: dict[str, Any], callback_url: str | None) -> None:
        """Log the event for ``GET /v3/webhooks/events`` and POST it to every subscribed target."""
        payload = {"event_type": event_type, "event_data": event_data}
        body = json.dumps(payload, separators=(",", ":")).encode()
        with self.store.lock:
            self.store.data["events"].append({
                "event_id": self.store.new_id("evt_", 24), "event_type": event_type, "event_data": event_data,
                "created_at": iso(self.clock()), "owner": owner, "entity_id": event_data.get("video_id"),
            })
            targets = [(ep["url"], ep["secret"]) for ep in self.store.data["endpoints"].values()
                       if ep["owner"] == owner and ep["status"] == "enabled"
                       and (ep["events"] is None or event_type in ep["events"])]
            self.store.save()
        copies = 2 if self.knobs.webhook_duplicate else 1
        for _ in range(copies):
            for url, secret in targets:
                signature = sign(body, "wrong-" + secret if self.knobs.webhook_bad_signature else secret)
                self._submit(url, body, {"Signature": signature, "X-HeyGen-Signature": signature})
            if callback_url:
                self._submit(callback_url, body, {})

    def _submit(self, url: str, body: bytes, headers: dict[str, str]) -> None:
        with contextlib.suppress(RuntimeError):  # pool shut down while the server stops
            self.pool.submit(self._post, url, body, headers)

    def _post(self, url: str, body: bytes, headers: dict[str, str]) -> None:
        request = urllib.request.Request(url, data=body, method="POST", headers={
            "Content-Type": "application/json", "User-Agent": "HeyGen-Webhooks (sandbox)", **headers})
        try:
            with urllib.request.urlopen(request, timeout=self.timeout_s) as response:  # noqa: S310
                response.read()
            self.store.bump("webhook_deliveries")
        except Exception as exc:  # a receiver's problem must never hurt the sandbox
            log.info("webhook delivery to %s failed: %s", url.split("?")[0], exc)
            self.store.bump("webhook_failures")

    def close(self) -> None:
        """Stop accepting deliveries (pending ones still run)."""
        self.pool.shutdown(wait=False, cancel_futures=True)
