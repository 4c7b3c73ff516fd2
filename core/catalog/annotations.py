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
- ``actor``: the :class:`~core.access.actor.Actor` saving (a producer or admin, else
  :class:`~core.access.permissions.PermissionDenied`); recorded as ``updated_by`` and ``updated_by_id``.
- ``expected_version``: the version the editor showed; when the stored annotation moved on since,
  the save is refused with :class:`~core.access.conflicts.EditConflict` and nothing is written.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from core.access.actor import Actor
from core.access.conflicts import EditConflict
from core.access.permissions import Action, require
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
                    approved: bool, notes: str | None, actor: Actor,
                    expected_version: int | None = None) -> VoiceAnnotation:
    """Create or replace the annotation of ``voice_id`` and flush it (the caller's transaction commits).

    Args:
        voice_id: HeyGen ``voice_id`` (1–64 characters).
        tags: free labels (see :func:`clean_tags`); a comma-separated string is accepted too.
        age_group: one of :data:`AGE_GROUPS` or ``None``/``""``.
        approved: approved for the team's brand.
        notes: free text, up to :data:`MAX_NOTES_CHARS` characters.
        actor: who saves it (stored as ``updated_by``/``updated_by_id``).
        expected_version: the version the editor showed (``0`` for "no annotation yet"); ``None`` skips the check.

    Returns:
        the stored :class:`~core.models.VoiceAnnotation` (``updated_at`` set to now, UTC; ``version`` bumped).

    Raises:
        PermissionDenied: ``actor`` is not a producer or admin; nothing is written.
        EditConflict: the annotation changed since ``expected_version``; nothing is written.
        AnnotationError: invalid input; nothing is written.
    """
    require(actor, Action.ANNOTATE_VOICE)
    voice_id = (voice_id or "").strip()
    if not voice_id or len(voice_id) > MAX_VOICE_ID_CHARS:
        raise AnnotationError("voice_id", "Choose a voice from the catalog before saving an annotation.")
    clean = {
        "tags": clean_tags(tags),
        "age_group": _clean_age_group(age_group),
        "approved": bool(approved),
        "notes": (notes or "").strip(),
        "updated_by": actor.name,
        "updated_by_id": actor.user_id,
        "updated_at": utcnow(),
    }
    if len(clean["notes"]) > MAX_NOTES_CHARS:
        raise AnnotationError("notes", f"Notes are limited to {MAX_NOTES_CHARS:,} characters "
                                       f"({len(clean['notes']):,} given).")

    row = session.get(VoiceAnnotation, voice_id)
    if row is None:
        if expected_version not in (None, 0):
            raise EditConflict(changed_by="someone", changed_at=None, same_person=False, stored_version=0)
        try:
            with session.begin_nested():  # another replica may insert the same voice at the same moment
                row = VoiceAnnotation(voice_id=voice_id, version=1, **clean)
                session.add(row)
            return row
        except IntegrityError:
            row = session.get(VoiceAnnotation, voice_id, populate_existing=True)
            if row is None:  # pragma: no cover - the conflicting row vanished again
                raise
            if expected_version is not None:
                raise _conflict(row, actor) from None
    loaded = row.version
    if expected_version is not None and loaded != expected_version:
        raise _conflict(row, actor)
    result = session.execute(
        update(VoiceAnnotation).where(VoiceAnnotation.voice_id == voice_id, VoiceAnnotation.version == loaded)
        .values(version=VoiceAnnotation.version + 1, **clean).execution_options(synchronize_session=False))
    if result.rowcount != 1:  # another save landed between our read and this write
        session.refresh(row)
        raise _conflict(row, actor)
    session.refresh(row)
    return row


def _conflict(row: VoiceAnnotation, actor: Actor) -> EditConflict:
    same = row.updated_by_id is not None and row.updated_by_id == actor.user_id
    return EditConflict(changed_by=row.updated_by, changed_at=row.updated_at, same_person=same,
                        stored_version=row.version)
