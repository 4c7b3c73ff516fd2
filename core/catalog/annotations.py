"""The team's own annotations on HeyGen voices: tags, age group, brand approval and notes.

HeyGen publishes no age or brand fields, so a team records its own judgement per voice
(table ``voice_annotations``, one row per ``voice_id``). The Voices page shows these as
columns and filters on them; :func:`annotations_version` lets it rebuild its table only
when an annotation changed.

Rules applied by :func:`save_annotation` (violations raise :class:`AnnotationError`):

- ``tags``: whitespace collapsed, lower-cased, duplicates dropped (order kept); at most
  :data:`MAX_TAGS` tags of at most :data:`MAX_TAG_CHARS` characters each.
- ``age_group``: one of :data:`AGE_GROUPS`, or ``None``/``""`` for "not set".
- ``notes``: at most :data:`MAX_NOTES_CHARS` characters (stripped).
- ``actor``: the person saving; required (recorded as ``updated_by``).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from core.models import VoiceAnnotation, utcnow

#: Age groups a voice can be given, youngest first.
AGE_GROUPS: tuple[str, ...] = ("child", "young adult", "adult", "senior")
MAX_TAGS = 20
MAX_TAG_CHARS = 40
MAX_NOTES_CHARS = 2000
MAX_ACTOR_CHARS = 200
MAX_VOICE_ID_CHARS = 64


class AnnotationError(ValueError):
    """An annotation could not be saved; ``str(exc)`` is one sentence for the user, ``field`` names the input
    (``voice_id``, ``tags``, ``age_group``, ``notes`` or ``actor``)."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


def get_annotations(session: Session) -> dict[str, VoiceAnnotation]:
    """Every annotation keyed by ``voice_id`` (one ``SELECT``; the rows stay readable after the session)."""
    return {row.voice_id: row for row in session.scalars(select(VoiceAnnotation))}


def annotations_version(session: Session) -> tuple[int, datetime | None]:
    """``(row count, latest updated_at)``: changes whenever an annotation is added, edited or removed.

    Cheap (one aggregate query); use it as a cache key for tables that merge annotations in.
    """
    count, latest = session.execute(
        select(func.count(VoiceAnnotation.voice_id), func.max(VoiceAnnotation.updated_at))
    ).one()
    return int(count or 0), latest


def clean_tags(tags: Iterable[str] | None) -> list[str]:
    """Tags as stored: whitespace collapsed, lower-cased, empty and duplicate tags dropped, order kept.

    Raises:
        AnnotationError: more than :data:`MAX_TAGS` tags or a tag longer than :data:`MAX_TAG_CHARS`.
    """
    if isinstance(tags, str):
        tags = tags.split(",")
    out: list[str] = []
    for raw in tags or ():
        tag = " ".join(str(raw).split()).lower()
        if not tag or tag in out:
            continue
        if len(tag) > MAX_TAG_CHARS:
            raise AnnotationError("tags", f"The tag “{tag[:20]}…” is too long: keep tags to {MAX_TAG_CHARS} "
                                          "characters.")
        out.append(tag)
    if len(out) > MAX_TAGS:
        raise AnnotationError("tags", f"A voice can have at most {MAX_TAGS} tags; remove {len(out) - MAX_TAGS}.")
    return out


def _clean_age_group(age_group: str | None) -> str | None:
    value = " ".join((age_group or "").split()).lower()
    if not value:
        return None
    if value not in AGE_GROUPS:
        raise AnnotationError("age_group", f"Age group must be one of {', '.join(AGE_GROUPS)} (got “{age_group}”).")
    return value


def save_annotation(session: Session, voice_id: str, *, tags: Iterable[str] | None, age_group: str | None,
                    approved: bool, notes: str | None, actor: str) -> VoiceAnnotation:
    """Create or replace the annotation of ``voice_id`` and flush it (the caller's transaction commits).

    Args:
        voice_id: HeyGen ``voice_id`` (1–64 characters).
        tags: free labels (see :func:`clean_tags`); a comma-separated string is accepted too.
        age_group: one of :data:`AGE_GROUPS` or ``None``/``""``.
        approved: approved for the team's brand.
        notes: free text, up to :data:`MAX_NOTES_CHARS` characters.
        actor: who saves it (stored as ``updated_by``).

    Returns:
        the stored :class:`~core.models.VoiceAnnotation` (``updated_at`` set to now, UTC).

    Raises:
        AnnotationError: invalid input; nothing is written.
    """
    voice_id = (voice_id or "").strip()
    if not voice_id or len(voice_id) > MAX_VOICE_ID_CHARS:
        raise AnnotationError("voice_id", "Choose a voice from the catalog before saving an annotation.")
    actor = " ".join((actor or "").split())
    if not actor:
        raise AnnotationError("actor", "Enter your name in the sidebar: annotations record who made them.")
    if len(actor) > MAX_ACTOR_CHARS:
        raise AnnotationError("actor", f"Your name is too long (over {MAX_ACTOR_CHARS} characters).")
    clean = {
        "tags": clean_tags(tags),
        "age_group": _clean_age_group(age_group),
        "approved": bool(approved),
        "notes": (notes or "").strip(),
        "updated_by": actor,
        "updated_at": utcnow(),
    }
    if len(clean["notes"]) > MAX_NOTES_CHARS:
        raise AnnotationError("notes", f"Notes are limited to {MAX_NOTES_CHARS:,} characters "
                                       f"({len(clean['notes']):,} given).")

    row = session.get(VoiceAnnotation, voice_id)
    if row is None:
        try:
            with session.begin_nested():  # another replica may insert the same voice at the same moment
                row = VoiceAnnotation(voice_id=voice_id, **clean)
                session.add(row)
            return row
        except IntegrityError:
            row = session.get(VoiceAnnotation, voice_id, populate_existing=True)
            if row is None:  # pragma: no cover - the conflicting row vanished again
                raise
    for key, value in clean.items():
        setattr(row, key, value)
    session.flush()
    return row
