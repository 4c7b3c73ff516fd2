"""SQLAlchemy 2.x tables of Reel Studio.

Tables: ``users`` (people who sign in, the local user, and owner names imported from
before sign-in existed), ``reels`` (one row per reel, current state), ``scenes`` (ordered by
``position``), ``reel_attempts`` (one row per submission attempt with its own
Idempotency-Key and HeyGen ``video_id``), ``reel_events`` (the audit trail: every
status change with who, when, from, to and detail), ``voice_annotations`` (the
team's own tags on voices), ``speech_samples`` (cached listen-before-you-pay audio),
``worker_leases`` (which worker process may act), ``script_versions`` (every saved text
of each scene's script; a scene keeps its ``uid`` across edits and moves), and the archive of
finished videos: ``reel_archives`` (state per completed reel) and ``archived_files`` (key, size,
SHA-256 per file); ``media_assets`` (users' own recordings and photos sent to HeyGen, and what
was made from them).

All timestamps are timezone-aware UTC (:class:`UTCDateTime` restores the zone on
SQLite). Durations are seconds, money USD, scripts characters.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
    false,
    func,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

#: Reel statuses in lifecycle order.
REEL_STATUSES = ("draft", "awaiting_approval", "queued", "submitting", "pending", "processing", "completed", "failed", "cancelled")
#: Statuses in which HeyGen holds a job of ours (they count against the concurrency limit).
ACTIVE_STATUSES = ("submitting", "pending", "processing")
TERMINAL_STATUSES = ("completed", "failed", "cancelled")
#: Queue priorities: ``interactive`` reels (launched from Compose) are sent before ``batch`` reels.
QUEUE_PRIORITIES = ("interactive", "batch")
#: Statuses in which HeyGen is rendering (progress and stuck checks apply).
RENDERING_STATUSES = ("pending", "processing")


def utcnow() -> datetime:
    """Current time, timezone-aware UTC."""
    return datetime.now(UTC)


def new_uid() -> str:
    """A new scene uid: 32 lower-case hex characters."""
    return uuid.uuid4().hex


class UTCDateTime(TypeDecorator):
    """A ``DateTime(timezone=True)`` that always returns aware UTC datetimes (SQLite drops the zone)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        """Store ``value`` as UTC; a naive datetime is taken to be UTC already."""
        if value is None:
            return None
        if value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        """An aware UTC datetime (``None`` stays ``None``)."""
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


#: Constraint and index names, so later SQLite (batch) migrations can refer to every constraint by name.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    """Declarative base of every table."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class Reel(Base):
    """A reel: title, settings, ordered scenes and the state of its current attempt.

    ``mode``: ``scene_based`` (exactly 3 scenes) or ``studio`` (1–50).
    ``status``: one of :data:`REEL_STATUSES`. ``attempt`` counts submissions (0 for a
    draft); the current attempt's ``idempotency_key`` and ``video_id`` are mirrored
    here so the board and the worker need no join.
    """

    __tablename__ = "reels"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    title: Mapped[str] = mapped_column(String(200), default="")
    owner: Mapped[str] = mapped_column(String(200), default="", index=True)
    #: The owning :class:`User`'s id; ``owner`` keeps the display name the board shows and filters by.
    #: No foreign key: SQLite then adds and drops the column in place (a table copy would cascade-delete
    #: the reel's events), and users are removed only by linking, which moves their reels first.
    owner_id: Mapped[int | None] = mapped_column(Integer, index=True)
    #: Bumped by every draft edit; an edit made from an older version is refused (no lost updates).
    version: Mapped[int] = mapped_column(Integer, default=1, server_default="1")
    #: The :class:`Workspace` the reel belongs to (whose HeyGen key makes it and whose budget pays for it).
    #: No foreign key: SQLite then adds the column in place (a table copy would cascade-delete the events).
    workspace_id: Mapped[int] = mapped_column(Integer, default=1, server_default="1", index=True)
    #: The :class:`Folder` it is filed in, or ``None``.
    folder_id: Mapped[int | None] = mapped_column(Integer, index=True)
    mode: Mapped[str] = mapped_column(String(20), default="scene_based")
    aspect_ratio: Mapped[str] = mapped_column(String(8), default="16:9")
    resolution: Mapped[str] = mapped_column(String(8), default="1080p")
    captions: Mapped[bool] = mapped_column(Boolean, default=False)
    engine: Mapped[str] = mapped_column(String(20), default="avatar_iv")

    status: Mapped[str] = mapped_column(String(20), default="draft")
    #: one of :data:`QUEUE_PRIORITIES` (migration 0007).
    priority: Mapped[str] = mapped_column(String(12), default="interactive", server_default="interactive")
    attempt: Mapped[int] = mapped_column(Integer, default=0)
    idempotency_key: Mapped[str | None] = mapped_column(String(255))
    video_id: Mapped[str | None] = mapped_column(String(64), index=True)
    heygen_status: Mapped[str | None] = mapped_column(String(32))
    claimed_by: Mapped[str | None] = mapped_column(String(100))

    estimated_duration_s: Mapped[float | None] = mapped_column(Float)
    estimated_cost_usd: Mapped[float | None] = mapped_column(Float)
    duration_s: Mapped[float | None] = mapped_column(Float)
    video_url: Mapped[str | None] = mapped_column(Text)
    captioned_video_url: Mapped[str | None] = mapped_column(Text)
    subtitle_url: Mapped[str | None] = mapped_column(Text)
    thumbnail_url: Mapped[str | None] = mapped_column(Text)
    gif_url: Mapped[str | None] = mapped_column(Text)
    video_page_url: Mapped[str | None] = mapped_column(Text)
    links_expire_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    failure_code: Mapped[str | None] = mapped_column(String(100))
    failure_message: Mapped[str | None] = mapped_column(Text)

    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    queued_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    processing_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    #: A template is a draft whose title and scripts hold Jinja2 variables; it is never launched itself.
    is_template: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    #: The batch this reel was made for, and its row there (1-based); unique together.
    batch_id: Mapped[int | None] = mapped_column(ForeignKey("batches.id", ondelete="SET NULL"), index=True)
    batch_row: Mapped[int | None] = mapped_column(Integer)

    scenes: Mapped[list[Scene]] = relationship(
        back_populates="reel", order_by="Scene.position", cascade="all, delete-orphan", lazy="selectin"
    )
    events: Mapped[list[ReelEvent]] = relationship(
        back_populates="reel", order_by="ReelEvent.id", cascade="all, delete-orphan", lazy="raise", passive_deletes=True
    )
    attempts: Mapped[list[ReelAttempt]] = relationship(
        back_populates="reel", order_by="ReelAttempt.number", cascade="all, delete-orphan", lazy="raise", passive_deletes=True
    )

    __table_args__ = (
        Index("ix_reels_status_updated", "status", "updated_at"),
        Index("ix_reels_owner_status", "owner", "status"),
        Index("ix_reels_updated_at", "updated_at"),  # the board's "changed since" reads (migration 0002)
        Index("uq_reels_batch_row", "batch_id", "batch_row", unique=True),  # one reel per batch row
        Index("ix_reels_status_priority_queued_at", "status", "priority", "queued_at"),  # the claim (0007)
    )


class Scene(Base):
    """One scene of a reel: avatar look + voice + script (1–5,000 characters).

    ``speed`` 0.5–1.5 (1.0), ``pitch`` −50…+50 semitones (0), ``locale`` a BCP-47 tag
    such as ``en-GB`` (only for voices with locale support), ``background_color``
    ``#RRGGBB`` or ``None``.
    """

    __tablename__ = "scenes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    reel_id: Mapped[int] = mapped_column(ForeignKey("reels.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    avatar_id: Mapped[str | None] = mapped_column(String(200))
    voice_id: Mapped[str | None] = mapped_column(String(64))
    script: Mapped[str] = mapped_column(Text, default="")
    speed: Mapped[float] = mapped_column(Float, default=1.0)
    pitch: Mapped[float] = mapped_column(Float, default=0.0)
    locale: Mapped[str | None] = mapped_column(String(16))
    background_color: Mapped[str | None] = mapped_column(String(7))
    #: Stable identity of the scene across edits, moves and row replacement (its script history's key).
    uid: Mapped[str | None] = mapped_column(String(32), default=new_uid)
    #: The scene speaks this own recording instead of ``script`` + ``voice_id`` (migration 0006);
    #: ``script`` is then an optional caption or note.
    audio_asset_ref: Mapped[int | None] = mapped_column(ForeignKey("media_assets.id", ondelete="SET NULL"),
                                                        index=True)

    reel: Mapped[Reel] = relationship(back_populates="scenes")
    audio_asset: Mapped[MediaAsset | None] = relationship(lazy="selectin")

    __table_args__ = (UniqueConstraint("reel_id", "position", name="uq_scenes_reel_position"),)


class ReelAttempt(Base):
    """One submission attempt of a reel to HeyGen.

    A retry of a failed reel makes a new attempt with a new ``idempotency_key``;
    earlier attempts stay. ``status`` is ours (:data:`REEL_STATUSES`).
    """

    __tablename__ = "reel_attempts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    reel_id: Mapped[int] = mapped_column(ForeignKey("reels.id", ondelete="CASCADE"), index=True)
    number: Mapped[int] = mapped_column(Integer)
    idempotency_key: Mapped[str] = mapped_column(String(255), unique=True)
    video_id: Mapped[str | None] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(20), default="queued")
    failure_code: Mapped[str | None] = mapped_column(String(100))
    failure_message: Mapped[str | None] = mapped_column(Text)
    queued_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: Seconds from submission to completion: the render-time history.
    render_seconds: Mapped[float | None] = mapped_column(Float)
    #: Output length in seconds, for render-time predictions.
    duration_s: Mapped[float | None] = mapped_column(Float)
    #: Ids of the :class:`ScriptVersion` each scene said, in scene order (what this attempt said).
    script_version_ids: Mapped[list[int] | None] = mapped_column(JSON)

    reel: Mapped[Reel] = relationship(back_populates="attempts")

    __table_args__ = (UniqueConstraint("reel_id", "number", name="uq_attempts_reel_number"),)


class ReelEvent(Base):
    """An audit-trail entry: ``actor`` moved the reel ``from_status`` → ``to_status`` at ``at``.

    ``detail`` is free text for people (a failure reason, "retry", a video_id).
    Events with ``from_status == to_status`` record non-status facts (edits, link refresh).
    """

    __tablename__ = "reel_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    reel_id: Mapped[int] = mapped_column(ForeignKey("reels.id", ondelete="CASCADE"), index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    actor: Mapped[str] = mapped_column(String(200), default="")
    #: The acting user's :class:`User` id (``None`` for the worker, webhooks and older events).
    actor_id: Mapped[int | None] = mapped_column(Integer)
    from_status: Mapped[str | None] = mapped_column(String(20))
    to_status: Mapped[str] = mapped_column(String(20))
    detail: Mapped[str] = mapped_column(Text, default="")

    reel: Mapped[Reel] = relationship(back_populates="events")


class VoiceAnnotation(Base):
    """The team's own notes on a HeyGen voice (HeyGen publishes no age or brand fields).

    ``tags`` is a list of free strings; ``age_group`` one of ``child``, ``young adult``,
    ``adult``, ``senior`` or ``None``; ``approved`` means approved for the brand.
    """

    __tablename__ = "voice_annotations"

    voice_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    tags: Mapped[list[str]] = mapped_column(JSON, default=list)
    age_group: Mapped[str | None] = mapped_column(String(20))
    approved: Mapped[bool] = mapped_column(Boolean, default=False)
    notes: Mapped[str] = mapped_column(Text, default="")
    updated_by: Mapped[str] = mapped_column(String(200), default="")
    updated_by_id: Mapped[int | None] = mapped_column(Integer)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    #: Bumped by every save; a save made from an older version is refused.
    version: Mapped[int] = mapped_column(Integer, default=1, server_default="1")


class SpeechSample(Base):
    """A generated speech preview (``POST /v3/voices/speech``), reused for identical requests.

    ``cache_key`` hashes voice, text, speed and locale. ``audio`` holds the bytes (``content_type``
    e.g. ``audio/mpeg``), so every replica of a deployment can play it (migration 0007); rows made
    before that have ``audio`` NULL and ``audio_path``, a file under ``DATA_DIR/speech``.
    ``duration_s`` is the measured audio length in seconds.
    """

    __tablename__ = "speech_samples"

    cache_key: Mapped[str] = mapped_column(String(64), primary_key=True)
    voice_id: Mapped[str] = mapped_column(String(64), index=True)
    text: Mapped[str] = mapped_column(Text)
    speed: Mapped[float] = mapped_column(Float, default=1.0)
    locale: Mapped[str | None] = mapped_column(String(16))
    audio_path: Mapped[str] = mapped_column(Text, default="")
    audio: Mapped[bytes | None] = mapped_column(LargeBinary, deferred=True)
    content_type: Mapped[str | None] = mapped_column(String(40))
    duration_s: Mapped[float] = mapped_column(Float)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class WorkerLease(Base):
    """The lease that lets exactly one worker act: ``holder`` until ``expires_at``."""

    __tablename__ = "worker_leases"

    name: Mapped[str] = mapped_column(String(50), primary_key=True)
    holder: Mapped[str | None] = mapped_column(String(100))
    acquired_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class Batch(Base):
    """A batch: one template rendered for every row of a spreadsheet, one reel per valid row.

    ``columns`` keeps the spreadsheet's header order; ``template_id`` the template it renders
    (``None`` once the template is deleted: the batch keeps its rows and reels).
    """

    __tablename__ = "batches"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    title: Mapped[str] = mapped_column(String(200), default="")
    owner: Mapped[str] = mapped_column(String(200), default="", index=True)
    owner_id: Mapped[int | None] = mapped_column(Integer)
    workspace_id: Mapped[int] = mapped_column(Integer, default=1, server_default="1", index=True)
    template_id: Mapped[int | None] = mapped_column(ForeignKey("reels.id", ondelete="SET NULL", use_alter=True,
                                                               name="fk_batches_template_id_reels"))
    file_name: Mapped[str] = mapped_column(String(255), default="")
    #: SHA-256 (hex) of the rows as stored: the same sheet for the same template is one batch, not two.
    rows_sha256: Mapped[str] = mapped_column(String(64), default="")
    columns: Mapped[list] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    launched_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    rows: Mapped[list[BatchRow]] = relationship(
        back_populates="batch", order_by="BatchRow.number", cascade="all, delete-orphan", lazy="raise",
        passive_deletes=True,
    )

    __table_args__ = (UniqueConstraint("owner", "template_id", "rows_sha256", name="uq_batches_owner_template_rows"),)


class BatchRow(Base):
    """One spreadsheet row of a batch: its values (column → text), whether it is excluded, its reel."""

    __tablename__ = "batch_rows"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    batch_id: Mapped[int] = mapped_column(ForeignKey("batches.id", ondelete="CASCADE"), index=True)
    number: Mapped[int] = mapped_column(Integer)
    values: Mapped[dict] = mapped_column(JSON, default=dict)
    excluded: Mapped[bool] = mapped_column(Boolean, default=False)
    reel_id: Mapped[int | None] = mapped_column(ForeignKey("reels.id", ondelete="SET NULL"), index=True)

    batch: Mapped[Batch] = relationship(back_populates="rows")

    __table_args__ = (UniqueConstraint("batch_id", "number", name="uq_batch_rows_batch_number"),)


#: Where a :class:`User` row came from.
USER_ORIGINS = ("sign-in", "local", "imported")


class User(Base):
    """A person: signed in through OpenID Connect, the local user, or an owner name from before sign-in.

    ``email`` is stored lower-case and unique regardless of case (``None`` for the local user and
    for imported names). ``role``: ``viewer``, ``producer`` or ``admin``. ``origin``: one of
    :data:`USER_ORIGINS`; ``imported`` users have never signed in (``last_seen_at`` is ``None``)
    and an admin may link one to the person who signs in later.
    """

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    email: Mapped[str | None] = mapped_column(String(320))
    display_name: Mapped[str] = mapped_column(String(200), default="")
    role: Mapped[str] = mapped_column(String(20), default="viewer")
    origin: Mapped[str] = mapped_column(String(20), default="sign-in")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_seen_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


#: One account per email address, whatever its case.
Index("uq_users_email_lower", func.lower(User.email), unique=True)


class ScriptVersion(Base):
    """One saved text of a scene's script: ``actor`` (display name; ``actor_id`` the user) saved ``text`` at ``at``.

    ``scene_uid`` is the scene's :attr:`Scene.uid`. ``source``: ``edit`` (saved in Compose),
    ``draft`` (a draft from a topic was applied; ``label`` holds the topic), ``restore`` (an
    earlier version was restored; ``restored_from`` is its id), ``created`` (a new or copied
    reel) or ``import`` (the text a scene had when history began).
    """

    __tablename__ = "script_versions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    reel_id: Mapped[int] = mapped_column(ForeignKey("reels.id", ondelete="CASCADE"))
    scene_uid: Mapped[str] = mapped_column(String(32))
    text: Mapped[str] = mapped_column(Text, default="")
    actor: Mapped[str] = mapped_column(String(200), default="")
    #: The user who saved it (``users.id``), ``None`` for history imported from before sign-in.
    actor_id: Mapped[int | None] = mapped_column(Integer)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    source: Mapped[str] = mapped_column(String(20), default="edit")
    label: Mapped[str] = mapped_column(String(200), default="")
    restored_from: Mapped[int | None] = mapped_column(Integer)

    __table_args__ = (Index("ix_script_versions_reel_scene", "reel_id", "scene_uid", "id"),)
#: Archive states of a completed reel (``deleted``: removed by the retention period).
ARCHIVE_STATES = ("pending", "archived", "failed", "deleted")


class ReelArchive(Base):
    """The archive state of one completed reel: its files copied out of HeyGen before the links expire.

    ``state``: one of :data:`ARCHIVE_STATES`; ``reason`` one sentence when ``failed``/``deleted``.
    ``tries`` counts attempts since the last success; ``next_try_at`` is the earliest retry (backoff);
    ``claimed_by``/``claimed_until``: the worker copying it now (a dead worker's claim lapses).
    ``width``/``height`` pixels, ``duration_s`` seconds: probed from the archived MP4 itself;
    ``total_bytes``: all archived files together.
    """

    __tablename__ = "reel_archives"

    reel_id: Mapped[int] = mapped_column(ForeignKey("reels.id", ondelete="CASCADE"), primary_key=True)
    video_id: Mapped[str | None] = mapped_column(String(64))
    state: Mapped[str] = mapped_column(String(20), default="pending")
    reason: Mapped[str | None] = mapped_column(Text)
    tries: Mapped[int] = mapped_column(Integer, default=0)
    next_try_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    claimed_by: Mapped[str | None] = mapped_column(String(100))
    claimed_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    archived_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    total_bytes: Mapped[int | None] = mapped_column(BigInteger)
    width: Mapped[int | None] = mapped_column(Integer)
    height: Mapped[int | None] = mapped_column(Integer)
    duration_s: Mapped[float | None] = mapped_column(Float)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    __table_args__ = (Index("ix_reel_archives_state_next", "state", "next_try_at"),)


class ArchivedFile(Base):
    """One file of a reel in the archive store: ``kind`` (``video``, ``captioned``, ``thumbnail``,
    ``subtitles``, ``gif``) at ``key`` (relative to the store's root), ``size_bytes`` bytes with its
    ``sha256`` (hex) as verified while it was copied."""

    __tablename__ = "archived_files"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    reel_id: Mapped[int] = mapped_column(ForeignKey("reel_archives.reel_id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(20))
    key: Mapped[str] = mapped_column(Text)
    size_bytes: Mapped[int] = mapped_column(BigInteger)
    sha256: Mapped[str] = mapped_column(String(64))
    content_type: Mapped[str | None] = mapped_column(String(100))
    archived_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (UniqueConstraint("reel_id", "kind", name="uq_archived_files_reel_kind"),)




#: What an own file is for.
MEDIA_PURPOSES = ("scene_audio", "voice_sample", "photo")
#: Upload states of an own file: stored here, at HeyGen, or the last upload failed (retry re-sends it).
UPLOAD_STATUSES = ("pending", "uploaded", "failed")


class MediaAsset(Base):
    """A user's own file and its HeyGen asset (migration 0006).

    ``purpose`` is one of :data:`MEDIA_PURPOSES`; ``local_path`` is relative to ``DATA_DIR``
    (the copy that is played back and re-sent after a failed upload); ``sha256`` of the bytes
    with ``owner`` and ``purpose`` identifies the file, so uploading it again reuses this row, its
    ``idempotency_key`` and its HeyGen ``asset_id``. Sizes are bytes, ``duration_s`` seconds
    (measured from the audio), ``width``/``height`` pixels.

    What was made from it: for a photo the photo avatar (``heygen_id`` = look id, ``group_id``),
    for a voice sample the clone (``heygen_id`` = voice id); ``label`` is the name the user gave,
    ``training_status`` HeyGen's status (``processing``, ``pending_consent``, ``completed``/
    ``complete``, ``failed``), ``training_error`` HeyGen's reason.
    """

    __tablename__ = "media_assets"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    owner: Mapped[str] = mapped_column(String(200), index=True)
    purpose: Mapped[str] = mapped_column(String(20))
    name: Mapped[str] = mapped_column(String(255))
    format: Mapped[str] = mapped_column(String(8))
    mime_type: Mapped[str] = mapped_column(String(64))
    size_bytes: Mapped[int] = mapped_column(Integer)
    duration_s: Mapped[float | None] = mapped_column(Float)
    width: Mapped[int | None] = mapped_column(Integer)
    height: Mapped[int | None] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    local_path: Mapped[str] = mapped_column(Text)
    idempotency_key: Mapped[str] = mapped_column(String(255), unique=True)
    asset_id: Mapped[str | None] = mapped_column(String(64), index=True)
    url: Mapped[str | None] = mapped_column(Text)
    upload_status: Mapped[str] = mapped_column(String(16), default="pending")
    upload_error: Mapped[str | None] = mapped_column(Text)
    label: Mapped[str] = mapped_column(String(200), default="")
    heygen_id: Mapped[str | None] = mapped_column(String(64))
    group_id: Mapped[str | None] = mapped_column(String(64))
    training_status: Mapped[str | None] = mapped_column(String(20))
    training_error: Mapped[str | None] = mapped_column(Text)
    consent_url: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    __table_args__ = (UniqueConstraint("owner", "purpose", "sha256", name="uq_media_assets_owner_file"),)
#: Roles in a workspace, weakest first: approvers may also approve launches; admins manage the workspace.
WORKSPACE_ROLES = ("viewer", "producer", "approver", "admin")
#: States of a :class:`Spend` entry.
SPEND_STATES = ("reserved", "spent", "released")
#: States of an :class:`ApprovalRequest`.
APPROVAL_STATES = ("pending", "approved", "rejected", "withdrawn")


class Workspace(Base):
    """A team: its own HeyGen account (mode and key), monthly budget and approval threshold.

    ``heygen_mode``: ``sandbox`` or ``live``. ``api_key_encrypted`` is a Fernet token
    (:mod:`core.access.keys`), never plain text; ``api_key_hint`` the masked key for display.
    The default workspace (``is_default``) uses ``HEYGEN_API_KEY`` from the environment while it
    has no stored key. ``monthly_budget_usd`` ``None`` means no budget; ``approval_threshold_usd``
    ``None`` means no approval; ``concurrency`` ``None`` means ``HEYGEN_CONCURRENCY``.
    ``ledger_version`` is bumped by every budget reservation: the row lock that serialises them.
    """

    __tablename__ = "workspaces"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    is_default: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    heygen_mode: Mapped[str] = mapped_column(String(10), default="sandbox")
    api_key_encrypted: Mapped[str | None] = mapped_column(Text)
    api_key_hint: Mapped[str] = mapped_column(String(20), default="")
    monthly_budget_usd: Mapped[float | None] = mapped_column(Float)
    approval_threshold_usd: Mapped[float | None] = mapped_column(Float)
    concurrency: Mapped[int | None] = mapped_column(Integer)
    ledger_version: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class WorkspaceMember(Base):
    """A person's membership of a workspace: ``role`` (:data:`WORKSPACE_ROLES`) and an optional monthly cap (USD).

    ``user_id`` is the ``users`` id of the person; ``name`` their display name when added.
    """

    __tablename__ = "workspace_members"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int] = mapped_column(Integer, index=True)
    name: Mapped[str] = mapped_column(String(200), default="")
    role: Mapped[str] = mapped_column(String(20), default="producer")
    monthly_cap_usd: Mapped[float | None] = mapped_column(Float)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (UniqueConstraint("workspace_id", "user_id", name="uq_workspace_members_workspace_user"),)


class Folder(Base):
    """A folder of a workspace; ``heygen_folder_id`` is HeyGen's folder id when it has one."""

    __tablename__ = "folders"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    heygen_folder_id: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (UniqueConstraint("workspace_id", "name", name="uq_folders_workspace_name"),)


class Spend(Base):
    """The budget ledger: one entry per reel attempt (``attempt``), in the month (``YYYY-MM``, UTC) it was launched.

    ``state`` (:data:`SPEND_STATES`): ``reserved`` holds ``estimate_usd`` from launch (or request for
    approval) until the outcome; ``spent`` holds the actual cost (HeyGen's duration × price table);
    ``released`` holds nothing (failed, cancelled, rejected). ``amount_usd`` is what the entry counts
    against the budget now: the estimate, the actual cost, or 0.
    """

    __tablename__ = "spend"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"))
    reel_id: Mapped[int] = mapped_column(ForeignKey("reels.id", ondelete="CASCADE"), index=True)
    attempt: Mapped[int] = mapped_column(Integer)
    user_id: Mapped[int | None] = mapped_column(Integer)
    member: Mapped[str] = mapped_column(String(200), default="")
    month: Mapped[str] = mapped_column(String(7))
    state: Mapped[str] = mapped_column(String(10), default="reserved")
    estimate_usd: Mapped[float] = mapped_column(Float, default=0.0)
    amount_usd: Mapped[float] = mapped_column(Float, default=0.0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    settled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    __table_args__ = (
        UniqueConstraint("reel_id", "attempt", name="uq_spend_reel_attempt"),
        Index("ix_spend_workspace_month", "workspace_id", "month"),
    )


class ApprovalRequest(Base):
    """A launch waiting for (or given) an approver's decision.

    ``state`` (:data:`APPROVAL_STATES`); ``estimate_usd`` the reel's estimate when requested;
    ``decided_by``/``note`` the approver and their note.
    """

    __tablename__ = "approval_requests"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"), index=True)
    reel_id: Mapped[int] = mapped_column(ForeignKey("reels.id", ondelete="CASCADE"), index=True)
    attempt: Mapped[int] = mapped_column(Integer)
    requested_by: Mapped[str] = mapped_column(String(200), default="")
    requested_by_id: Mapped[int | None] = mapped_column(Integer)
    estimate_usd: Mapped[float] = mapped_column(Float, default=0.0)
    state: Mapped[str] = mapped_column(String(10), default="pending")
    decided_by: Mapped[str | None] = mapped_column(String(200))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    note: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

