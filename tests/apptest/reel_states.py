"""Put reels straight into any status through the core functions (no worker, no HeyGen).

Used by the dashboard page tests to build a board with known contents.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from core.heygen.types import Video
from core.jobs import lifecycle
from core.models import Reel, ReelAttempt, utcnow
from core.reels.drafts import create_reel
from tests.people import WORKER, signed_in


def _queue(session: Session, reel: Reel, now: datetime) -> None:
    key = str(uuid.uuid4())
    assert lifecycle.transition(session, reel, "queued", actor=WORKER, expected=("draft",), now=now,
                                 values={"attempt": 1, "idempotency_key": key, "estimated_duration_s": 20.0,
                                         "estimated_cost_usd": 1.2})
    session.add(ReelAttempt(reel_id=reel.id, number=1, idempotency_key=key, status="queued", queued_at=now))


def make_reel(
    session: Session, title: str, status: str, *, owner: str = "Ana", failure: tuple[str, str] | None = None,
    video_url: str | None = None, ago: timedelta = timedelta(minutes=5), duration_s: float = 20.0,
) -> Reel:
    """A reel called ``title`` owned by ``owner`` in ``status``, walked there with real transitions. Commits.

    ``failure``: ``(code, message)`` for a failed reel. ``video_url``: the MP4 link of a completed
    reel (default: a sandbox-style path). ``ago``: how long before now it was launched.
    """
    start = utcnow() - ago
    reel = create_reel(session, actor=signed_in(session, owner), title=title)
    session.flush()
    if status == "draft":
        session.commit()
        return reel
    _queue(session, reel, start)
    if status == "cancelled":
        assert lifecycle.transition(session, reel, "cancelled", actor=WORKER, now=start + timedelta(seconds=5))
    if status in ("queued", "cancelled"):
        session.commit()
        return reel
    video_id = uuid.uuid4().hex
    lifecycle.transition(session, reel, "submitting", actor=WORKER, now=start + timedelta(seconds=1))
    lifecycle.transition(session, reel, "pending", actor=WORKER, now=start + timedelta(seconds=2),
                          values={"video_id": video_id})
    if status == "pending":
        session.commit()
        return reel
    lifecycle.transition(session, reel, "processing", actor=WORKER, now=start + timedelta(seconds=10))
    if status == "failed":
        code, message = failure or ("RENDER_FAILED", "The video could not be rendered.")
        assert lifecycle.fail_reel(session, reel, code, message, actor=WORKER, now=start + timedelta(seconds=30))
    elif status == "completed":
        url = video_url or f"/media/{video_id}.mp4"
        video = Video(id=video_id, status="completed", duration=duration_s, video_url=url,
                      thumbnail_url=f"/media/{video_id}.jpg", subtitle_url=f"/media/{video_id}.srt")
        assert lifecycle.apply_video(session, reel, video, actor=WORKER, now=start + timedelta(seconds=60))
    session.commit()
    return reel
