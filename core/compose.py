"""What the Compose page needs beyond :mod:`core.reels`: the drafts list, prefilling a scene with a
voice or avatar look chosen elsewhere, voice choices for the in-place voice filters, measured
speech lengths and a per-scene cost breakdown.

Drafts, validation and estimates themselves live in :mod:`core.reels`; launching in
:mod:`core.generation`; speech samples in :mod:`core.speech`. Durations are seconds, money USD,
scene numbers 1-based as users see them.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import Any

import pandas as pd
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core import reels
from core.catalog import VoiceFilter, filter_voices
from core.models import Reel, Scene, utcnow
from core.speech import find_speech_sample


@dataclass(frozen=True)
class DraftRow:
    """One line of the drafts list: reel ``id``, ``title``, ``status``, number of ``scenes``, last edit."""

    id: int
    title: str
    status: str
    scenes: int
    updated_at: datetime | None
    owner: str = ""


def _rows(session: Session, where: Sequence[Any], limit: int | None) -> list[DraftRow]:
    count = (select(func.count(Scene.id)).where(Scene.reel_id == Reel.id).correlate(Reel)
             .scalar_subquery())
    stmt = (select(Reel.id, Reel.title, Reel.status, count, Reel.updated_at, Reel.owner).where(*where)
            .order_by(Reel.updated_at.desc(), Reel.id.desc()))
    if limit:
        stmt = stmt.limit(limit)
    return [DraftRow(*row) for row in session.execute(stmt)]


def list_drafts(session: Session, owner: str, *, query: str = "", limit: int | None = 100) -> list[DraftRow]:
    """``owner``'s drafts, most recently edited first (one query, scene counts included).

    ``query`` keeps drafts whose title contains it (case-insensitive); ``limit`` caps the rows.
    """
    where = [Reel.owner == owner, Reel.status == "draft"]
    if query.strip():
        where.append(Reel.title.ilike(f"%{query.strip()}%"))
    return _rows(session, where, limit)


def display_title(title: str | None, reel_id: int) -> str:
    """The reel's title, or ``"Untitled reel #<id>"`` when it has none."""
    return (title or "").strip() or f"Untitled reel #{reel_id}"


# --------------------------------------------------------------------------------------------
# "Use in a reel": prefill a scene with a voice and/or avatar look chosen on another page
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Prefill:
    """Where a chosen voice/look went: ``reel_id``, 1-based ``scene`` number, ``created`` a new draft."""

    reel_id: int
    scene: int
    created: bool


def first_open_scene(reel: Any, *, voice: bool, avatar: bool) -> int | None:
    """1-based number of the first scene (in position order) with no voice (when ``voice``) and no
    avatar look (when ``avatar``); ``None`` when every scene has them (or neither is asked for)."""
    if not voice and not avatar:
        return None
    for n, scene in enumerate(sorted(reel.scenes, key=lambda s: s.position), start=1):
        if (not voice or not scene.voice_id) and (not avatar or not scene.avatar_id):
            return n
    return None


def prefill(session: Session, *, owner: str, reel_id: int | None, voice_id: str | None = None,
            avatar_id: str | None = None) -> Prefill:
    """Put ``voice_id`` and/or ``avatar_id`` into the first scene of draft ``reel_id`` that lacks them;
    when there is no such draft or scene, create a new draft owned by ``owner`` with them in scene 1.

    Records the usual edit/creation events (actor ``owner``); flushes, the caller commits.

    Raises:
        ValueError: neither ``voice_id`` nor ``avatar_id`` given.
        core.reels.ReelValidationError: an id longer than a draft can hold.
    """
    if not voice_id and not avatar_id:
        raise ValueError("Give a voice_id or an avatar_id to prefill.")
    reel = session.get(Reel, reel_id) if reel_id is not None else None
    if reel is not None and reel.status == "draft":
        number = first_open_scene(reel, voice=bool(voice_id), avatar=bool(avatar_id))
        if number is not None:
            inputs = [reels.SceneInput.from_scene(s) for s in sorted(reel.scenes, key=lambda s: s.position)]
            target = inputs[number - 1]
            if voice_id:
                target.voice_id, target.locale = voice_id, None
            if avatar_id:
                target.avatar_id = avatar_id
            reels.set_scenes(session, reel.id, inputs, actor=owner)
            return Prefill(reel.id, number, False)
    first = reels.SceneInput(position=1, voice_id=voice_id or None, avatar_id=avatar_id or None)
    rest = [reels.SceneInput(position=n) for n in (2, 3)]
    created = reels.create_reel(session, owner=owner, scenes=[first, *rest])
    return Prefill(created.id, 1, True)


# --------------------------------------------------------------------------------------------
# Voice choices, speech lengths and costs
# --------------------------------------------------------------------------------------------


def voice_choices(voices: pd.DataFrame, *, language: str | None = None, gender: str | None = None,
                  accent: str | None = None, keep: str | None = None) -> list[str]:
    """Voice ids of a :func:`core.catalog.voices_frame` frame matching the picker's filters (catalog
    order): ``language`` (normalised name), ``gender`` (``male``/``female``/``unknown``), ``accent``
    (a locale tag the voice offers); ``None`` = any. ``keep`` (the scene's current voice) is always
    first, even when it does not match, so changing a filter never changes the chosen voice."""
    f = VoiceFilter(languages=(language,) if language else (), genders=(gender,) if gender else (),
                    accents=(accent,) if accent else ())
    ids = filter_voices(voices, f)["voice_id"].tolist()
    if keep and keep in set(voices["voice_id"]):
        ids = [keep, *(i for i in ids if i != keep)]
    return ids


def measured_durations(session: Session, reel: Any) -> dict[int, float]:
    """``{scene position: seconds}`` of the stored speech samples matching each scene's current voice,
    script, speed and accent (no HeyGen call); scenes never listened to are absent."""
    out: dict[int, float] = {}
    for scene in reel.scenes:
        if not scene.voice_id or not (scene.script or "").strip():
            continue
        sample = find_speech_sample(session, scene.voice_id, scene.script, speed=scene.speed,
                                    locale=scene.locale)
        if sample is not None:
            out[scene.position] = float(sample.duration_s)
    return out


def scene_costs(reel: Any, index: Any, estimate: reels.Estimate) -> list[float]:
    """USD per scene (position order) whose sum is ``estimate.cost_usd``: each scene's duration at its
    price (:func:`core.reels.scene_price_per_second`), scaled like the total to whole seconds.

    Raises:
        ValueError: the reel's engine or resolution has no price.
    """
    scenes = sorted(reel.scenes, key=lambda s: s.position)
    weights = []
    for scene, seconds in zip(scenes, estimate.scene_durations, strict=True):
        weights.append(reels.scene_price_per_second(reel, index, scene.avatar_id) * seconds)
    total = sum(weights)
    if total <= 0:
        return [0.0] * len(scenes)
    return [estimate.cost_usd * w / total for w in weights]


def format_seconds(seconds: float) -> str:
    """``"42 s"`` below a minute, else ``"1 min 05 s"`` (rounded to whole seconds)."""
    whole = round(seconds)
    if whole < 60:
        return f"{whole} s"
    return f"{whole // 60} min {whole % 60:02d} s"


def time_ago(when: datetime | None, now: datetime | None = None) -> str:
    """``"just now"``, ``"5 min ago"``, ``"3 h ago"``, ``"2 days ago"`` (aware datetimes); ``""`` for None."""
    if when is None:
        return ""
    seconds = max(0.0, ((now or utcnow()) - when).total_seconds())
    if seconds < 60:
        return "just now"
    if seconds < 3600:
        return f"{int(seconds // 60)} min ago"
    if seconds < 86400:
        return f"{int(seconds // 3600)} h ago"
    days = int(seconds // 86400)
    return f"{days} day{'s' * (days != 1)} ago"


def unique_labels(ids: Sequence[str], label: Callable[[str], str]) -> dict[str, str]:
    """``{id: label(id)}`` where labels shared by several ids get `` · <first 6 characters of the id>``
    appended, so every label names exactly one id (pickers send the label, not the id, back)."""
    labels = {i: label(i) for i in dict.fromkeys(ids)}
    counts = Counter(labels.values())
    return {i: f"{text} · {i[:6]}" if counts[text] > 1 else text for i, text in labels.items()}


@lru_cache(maxsize=4)
def voice_labels(index: Any) -> dict[str, str]:
    """Unique picker labels of every voice of a :class:`core.catalog.CatalogIndex` (cached per index)."""
    return unique_labels([v.voice_id for v in index.voices], index.voice_label)


@lru_cache(maxsize=4)
def look_labels(index: Any) -> dict[str, str]:
    """Unique picker labels of every avatar look of a :class:`core.catalog.CatalogIndex` (cached per index)."""
    return unique_labels([lk.id for lk in index.looks], index.look_label)
