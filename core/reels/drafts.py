"""Drafts: create, edit, duplicate, delete, list, and prefill a scene with a voice or look chosen elsewhere.

A reel is a title, output settings (mode, aspect ratio, resolution, captions, engine) and an
ordered list of scenes (avatar look + voice + script + voice settings + background colour).

Editing rules:

- Only drafts are editable (:class:`~core.reels.validation.ReelStateError` otherwise). An edit
  first runs a conditional ``UPDATE reels … WHERE id=:id AND status='draft'``, so an edit racing a
  launch either lands before it or is refused; it never changes a launched reel.
- Every change writes a :class:`~core.models.ReelEvent` (``from_status == to_status``,
  ``detail`` such as ``"edited scenes: scene 2: script"``). No-op edits write nothing.
- Every function that changes a reel takes ``actor`` (:class:`~core.access.actor.Actor`,
  keyword-only, no default) and checks it first (:mod:`core.access.permissions`): creating needs
  a producer; editing, duplicating and deleting need the reel's owner or an admin. A refusal
  raises :class:`~core.access.permissions.PermissionDenied` before anything is written. Events
  record ``actor.name`` and ``actor.user_id``; new reels are owned by ``actor.user_id``.
- No lost updates: every edit bumps ``reels.version`` in its conditional UPDATE. An editor passes
  the version it showed as ``expected_version``; when the stored one moved on, the edit is refused
  with :class:`~core.access.conflicts.EditConflict` (who changed it, when) and nothing is written.

Stored positions are always 1..n. Functions take a SQLAlchemy session, flush, and leave
committing to the caller.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, select, update
from sqlalchemy.exc import InvalidRequestError
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from core.access.actor import Actor
from core.access.conflicts import EditConflict
from core.access.permissions import Action, can, require, require_reel
from core.models import MediaAsset, Reel, ReelEvent, Scene, new_uid, utcnow
from core.reels import validation
from core.reels import versions as script_versions
from core.reels.validation import (
    DELETABLE_STATUSES,
    EDITABLE_FIELDS,
    SCENE_BASED_SCENES,
    SCENE_FIELDS,
    TITLE_MAX_CHARS,
    Problem,
    ReelNotFoundError,
    ReelStateError,
    ReelValidationError,
    SceneInput,
    position_problems,
    scene_count_problems,
    scene_value_problems,
    settings_problems,
    sorted_scenes,
)

# --------------------------------------------------------------------------------------------
# Drafts: create, edit, duplicate, delete
# --------------------------------------------------------------------------------------------

log = logging.getLogger(__name__)


def get_reel(session: Session, reel_id: int) -> Reel:
    """The reel with this id (scenes loaded).

    Raises:
        ReelNotFoundError: no such reel.
    """
    reel = session.get(Reel, reel_id)
    if reel is None:
        raise ReelNotFoundError(f"Reel {reel_id} does not exist (it may have been deleted).")
    return reel


def _empty_scenes(count: int) -> list[SceneInput]:
    return [SceneInput(position=i) for i in range(1, count + 1)]


def _clean_input(scene: SceneInput) -> SceneInput:
    """Empty strings → ``None`` for ids, locale and colour; CRLF/CR line ends → LF; ``None`` script → ``""``."""

    def blank_to_none(value: Any) -> Any:
        return None if isinstance(value, str) and value.strip() == "" else value

    script = scene.script if scene.script is not None else ""
    if isinstance(script, str):
        script = script.replace("\r\n", "\n").replace("\r", "\n")
    return dataclasses.replace(
        scene,
        avatar_id=blank_to_none(scene.avatar_id),
        voice_id=blank_to_none(scene.voice_id),
        locale=blank_to_none(scene.locale),
        background_color=blank_to_none(scene.background_color),
        script=script,
    )


def _check_scene_inputs(mode: str, scenes: Sequence[SceneInput]) -> list[SceneInput]:
    """Clean, check and order ``scenes`` for storage; returns them sorted by position.

    Raises:
        ReelValidationError: wrong count for the mode, duplicate positions or impossible values.
    """
    cleaned = [_clean_input(s) for s in scenes]
    problems = position_problems(cleaned)
    if problems:
        raise ReelValidationError(problems)
    ordered = sorted_scenes(cleaned)
    problems = scene_count_problems(mode, len(ordered))
    for n, scene in enumerate(ordered, start=1):
        problems += scene_value_problems(n, scene)
    if problems:
        raise ReelValidationError(problems)
    return ordered


def _scene_rows(inputs: Sequence[SceneInput]) -> list[Scene]:
    return [Scene(position=n, uid=s.uid or new_uid(), **{name: getattr(s, name) for name in SCENE_FIELDS})
            for n, s in enumerate(inputs, start=1)]


def _keep_uids(inputs: Sequence[SceneInput], current: Sequence[SceneInput]) -> list[SceneInput]:
    """``inputs`` where each scene without a uid (or with one already taken) gets the uid of the current
    scene at the same place, if that one is still free, else ``None`` (a new scene)."""
    taken: set[str] = set()
    out = []
    for n, scene in enumerate(inputs):
        uid = scene.uid if scene.uid and scene.uid not in taken else None
        if uid is None and n < len(current):
            candidate = current[n].uid
            if candidate and candidate not in taken and candidate not in {s.uid for s in inputs}:
                uid = candidate
        if uid:
            taken.add(uid)
        out.append(dataclasses.replace(scene, uid=uid))
    return out


def _event(session: Session, reel: Reel, actor: Actor, detail: str, from_status: str | None = None) -> None:
    to_status = reel.status or "draft"
    from_status = to_status if from_status is None else from_status
    session.add(ReelEvent(reel_id=reel.id, actor=actor.name, actor_id=actor.user_id, from_status=from_status or None,
                          to_status=to_status, detail=detail))


def create_reel(
    session: Session,
    *,
    actor: Actor,
    title: str = "",
    mode: str = "scene_based",
    aspect_ratio: str = "16:9",
    resolution: str = "1080p",
    captions: bool = False,
    engine: str = "avatar_iv",
    scenes: Sequence[SceneInput] | None = None,
    version_source: str = "created",
    version_label: str = "",
    workspace_id: int = 1,
    folder_id: int | None = None,
) -> Reel:
    """Create a draft owned by ``actor`` in ``workspace_id`` (filed in ``folder_id``, if any) and record a
    "created" event; flushes (the id is set).

    Without ``scenes`` a scene-based draft gets 3 empty scenes and a studio draft 1. Each non-empty
    script becomes its scene's first version (``version_source``, ``version_label``; see
    :mod:`core.reels.versions`).

    Raises:
        PermissionDenied: ``actor`` is not a producer or admin.
        ReelValidationError: a setting or scene has a value a draft can never hold, or the
            scene count does not fit the mode. Nothing is written.
    """
    require(actor, Action.CREATE_REEL)
    settings = {"title": title, "mode": mode, "aspect_ratio": aspect_ratio, "resolution": resolution,
                "captions": captions, "engine": engine}
    problems = settings_problems(settings)
    if problems:
        raise ReelValidationError(problems)
    if scenes is None:
        scenes = _empty_scenes(SCENE_BASED_SCENES if mode == "scene_based" else 1)
    ordered = _check_scene_inputs(mode, scenes)
    reel = Reel(owner=actor.name, owner_id=actor.user_id, status="draft", attempt=0, version=1,
                workspace_id=workspace_id, folder_id=folder_id, **settings)
    reel.scenes = _scene_rows(ordered)
    session.add(reel)
    session.flush()
    _event(session, reel, actor, "created", from_status="")
    script_versions.record_versions(session, reel, actor=actor, source=version_source, label=version_label)
    session.flush()
    return reel


def _editable(session: Session, reel_id: int, actor: Actor, expected_version: int | None) -> Reel:
    """Load a reel and make sure ``actor`` may edit it, it is a draft and not changed since
    ``expected_version`` (before any other check or write)."""
    reel = get_reel(session, reel_id)
    require_reel(actor, Action.EDIT_REEL, reel)
    if reel.status != "draft":
        raise _not_editable(reel)
    if expected_version is not None and reel.version != expected_version:
        raise _conflict(session, reel, actor)
    return reel


def _conflict(session: Session, reel: Reel, actor: Actor) -> EditConflict:
    """The :class:`EditConflict` naming the reel's latest change (its newest event)."""
    last = session.execute(select(ReelEvent.actor, ReelEvent.actor_id, ReelEvent.at)
                           .where(ReelEvent.reel_id == reel.id).order_by(ReelEvent.id.desc()).limit(1)).first()
    name, user_id, at = last if last is not None else ("", None, reel.updated_at)
    same = user_id is not None and user_id == actor.user_id
    return EditConflict(changed_by=name, changed_at=at, same_person=same, stored_version=reel.version)


def _reload(session: Session, reel: Reel) -> None:
    """Re-read ``reel`` after a conditional write matched nothing.

    Raises:
        ReelNotFoundError: the reel was deleted meanwhile.
    """
    reel_id = reel.id
    try:
        session.refresh(reel)
    except InvalidRequestError:
        raise ReelNotFoundError(f"Reel {reel_id} does not exist (it may have been deleted).") from None


def _not_editable(reel: Reel) -> ReelStateError:
    return ReelStateError(f"Reel {reel.id} is {reel.status}; only drafts can be edited. Duplicate it to "
                          "make an editable copy.")


def _claim_draft(session: Session, reel: Reel, actor: Actor) -> None:
    """``UPDATE reels SET updated_at=now, version=version+1 WHERE id=:id AND status='draft' AND
    version=:loaded``: the edit's first write.

    Holds the row (PostgreSQL) or the database write lock (SQLite) until commit, so a launch or
    another edit cannot slip in between this check and the edit.

    Raises:
        ReelStateError: the reel stopped being a draft since it was loaded.
        EditConflict: someone else edited it since it was loaded.
    """
    loaded = reel.version
    result = session.execute(
        update(Reel).where(Reel.id == reel.id, Reel.status == "draft", Reel.version == loaded)
        .values(updated_at=utcnow(), version=Reel.version + 1)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        _reload(session, reel)
        if reel.status != "draft":
            raise _not_editable(reel)
        raise _conflict(session, reel, actor)
    set_committed_value(reel, "version", loaded + 1)


def update_reel(session: Session, reel_id: int, *, actor: Actor, expected_version: int | None = None,
                **fields: Any) -> Reel:
    """Change reel settings of a draft: any of ``title``, ``mode``, ``aspect_ratio``,
    ``resolution``, ``captions``, ``engine``. Records "edited title, engine"-style events.

    Switching to ``scene_based`` pads a reel with fewer than 3 scenes with empty ones and is
    refused for more than 3.

    Raises:
        TypeError: a field that is not editable.
        ReelNotFoundError: no such reel.
        PermissionDenied: ``actor`` is neither the owner (producer) nor an admin.
        ReelStateError: the reel is not a draft.
        EditConflict: the reel changed since ``expected_version``; nothing is written.
        ReelValidationError: a value a draft can never hold; nothing is written.
    """
    unknown = sorted(set(fields) - set(EDITABLE_FIELDS))
    if unknown:
        raise TypeError(f"update_reel() cannot change {', '.join(unknown)}; editable: {', '.join(EDITABLE_FIELDS)}.")
    reel = _editable(session, reel_id, actor, expected_version)
    changed = {name: value for name, value in fields.items() if getattr(reel, name) != value
               or type(getattr(reel, name)) is not type(value)}
    problems = settings_problems(changed)
    if not problems and changed.get("mode") == "scene_based" and len(reel.scenes) > SCENE_BASED_SCENES:
        problems = scene_count_problems("scene_based", len(reel.scenes))
    if problems:
        raise ReelValidationError(problems)
    if not changed:
        return reel
    _claim_draft(session, reel, actor)
    for name, value in changed.items():
        setattr(reel, name, value)
    if reel.mode == "scene_based" and len(reel.scenes) < SCENE_BASED_SCENES:
        current = [SceneInput.from_scene(s) for s in sorted_scenes(reel.scenes)]
        _replace_scenes(session, reel, current + _empty_scenes(SCENE_BASED_SCENES - len(current)))
    _event(session, reel, actor, "edited " + ", ".join(changed))
    session.flush()
    return reel


def _replace_scenes(session: Session, reel: Reel, inputs: Sequence[SceneInput]) -> None:
    """Store ``inputs`` as the reel's scenes with positions 1..n (old rows deleted first)."""
    reel.scenes.clear()
    session.flush()
    reel.scenes.extend(_scene_rows(inputs))
    session.flush()


def _scenes_detail(old: Sequence[SceneInput], new: Sequence[SceneInput]) -> str:
    """Human summary of a scene edit, e.g. ``"scene 2: script, speed"``; ``""`` when nothing changed."""
    parts = []
    if len(old) != len(new):
        parts.append(f"{len(old)} → {len(new)} scenes")
    for n, (a, b) in enumerate(zip(old, new, strict=False), start=1):
        changed = [name for name in SCENE_FIELDS if getattr(a, name) != getattr(b, name)]
        if changed:
            parts.append(f"scene {n}: {', '.join(changed)}")
    return "; ".join(parts)


def _edit_scenes(session: Session, reel_id: int, make: Any, actor: Actor, detail: str | None = None,
                 expected_version: int | None = None, *, version: dict[str, Any] | None = None) -> Reel:
    """Shared path of the scene edits: ``make(current_inputs) -> new_inputs``; check, claim, store, record
    the event and the script versions (``version``: ``source``/``label``/``restored_from`` of them).

    Scenes keep their uid (their script history): by ``uid``, else by place (:func:`_keep_uids`). The
    claim refuses an edit made from scenes loaded before another edit, so they are current here.
    """
    reel = _editable(session, reel_id, actor, expected_version)
    current = [SceneInput.from_scene(s) for s in sorted_scenes(reel.scenes)]
    for n, scene in enumerate(current, start=1):
        scene.position = n
    ordered = _check_scene_inputs(reel.mode, make([dataclasses.replace(s) for s in current]))
    _check_recordings(session, reel, ordered)
    summary = _scenes_detail(current, ordered)
    if not summary:
        return reel
    _claim_draft(session, reel, actor)
    _replace_scenes(session, reel, _keep_uids(ordered, current))
    _event(session, reel, actor, detail or f"edited scenes: {summary}")
    script_versions.record_versions(session, reel, actor=actor, **(version or {}))
    session.flush()
    return reel


def _check_recordings(session: Session, reel: Reel, scenes: Sequence[SceneInput]) -> None:
    """Every ``audio_asset_ref`` is a scene recording of the reel's owner.

    Raises:
        ReelValidationError: a recording that does not exist or belongs to someone else.
    """
    problems = []
    for n, scene in enumerate(scenes, start=1):
        if scene.audio_asset_ref is None:
            continue
        media = session.get(MediaAsset, scene.audio_asset_ref)
        if media is None or media.owner != reel.owner or media.purpose != "scene_audio":
            problems.append(validation.Problem(f"scenes[{n}].audio_asset_ref",
                                               f"Scene {n}: that recording is not in your media; add it again."))
    if problems:
        raise ReelValidationError(problems)


def set_scenes(session: Session, reel_id: int, scenes: Sequence[SceneInput], *, actor: Actor,
               expected_version: int | None = None, version_source: str = "edit", version_label: str = "") -> Reel:
    """Replace the scenes of a draft with ``scenes`` (ordered by their ``position``; stored as 1..n).

    Records ``"edited scenes: scene 2: script"``; an identical list writes nothing. Each changed script
    becomes a version (``version_source``, ``version_label``; see :mod:`core.reels.versions`). Scenes
    keep their uid (their history) by ``uid``, or by place when ``uid`` is ``None``.

    Raises:
        ReelNotFoundError: no such reel.
        PermissionDenied: ``actor`` is neither the owner (producer) nor an admin.
        ReelStateError: the reel is not a draft.
        EditConflict: the reel changed since ``expected_version``; nothing is written.
        ReelValidationError: wrong count for the mode (scene_based 3, studio 1–50), duplicate
            positions, or values a draft can never hold; nothing is written.
    """
    return _edit_scenes(session, reel_id, lambda _current: list(scenes), actor, expected_version=expected_version,
                        version={"source": version_source, "label": version_label})


def restore_script(session: Session, reel_id: int, version_id: int, *, actor: Actor,
                   expected_version: int | None = None) -> Reel:
    """Make an earlier version of a scene's script the current text again; the restore is a new version
    (source ``restore``, ``restored_from`` = ``version_id``). Records "restored scene N's script".

    Raises:
        ReelNotFoundError, PermissionDenied, ReelStateError, EditConflict: as :func:`set_scenes`.
        ReelValidationError: the version's scene is no longer part of the reel, or is already that text.
        LookupError: no such version on this reel.
    """
    version = script_versions.get_version(session, reel_id, version_id)
    when = version.at.strftime("%Y-%m-%d %H:%M UTC")

    def make(current: list[SceneInput]) -> list[SceneInput]:
        for n, scene in enumerate(current, start=1):
            if scene.uid == version.scene_uid:
                if scene.script == version.text:
                    raise ReelValidationError([Problem(f"scenes[{n}].script",
                                                       f"Scene {n} already says this version's text.")])
                scene.script = version.text
                return current
        raise ReelValidationError([Problem("scenes", "That version belongs to a scene that was removed from "
                                                     "this reel; copy its text into a scene instead.")])

    reel = _editable(session, reel_id, actor, expected_version)
    number = next((n for n, s in enumerate(sorted_scenes(reel.scenes), start=1) if s.uid == version.scene_uid), 0)
    return _edit_scenes(session, reel_id, make, actor, f"restored scene {number}'s script from {when}",
                        expected_version, version={"source": "restore", "label": f"restored the version of {when}",
                                                   "restored_from": version.id})


def _scene_number_problem(number: Any, count: int, field: str = "scenes") -> ReelValidationError:
    return ReelValidationError([Problem(field, f"Scene {number} does not exist; this reel has {count} scenes.")])


def add_scene(session: Session, reel_id: int, scene: SceneInput | None = None, *, actor: Actor,
              expected_version: int | None = None) -> Reel:
    """Append a scene (empty by default) to a studio draft; records "added scene N".

    Raises:
        ReelNotFoundError, PermissionDenied, ReelStateError, EditConflict: as :func:`set_scenes`.
        ReelValidationError: the reel would have too many scenes (scene_based 3, studio 50).
    """

    def make(current: list[SceneInput]) -> list[SceneInput]:
        new = dataclasses.replace(scene) if scene else SceneInput(position=0)
        new.position = len(current) + 1
        return [*current, new]

    reel = _editable(session, reel_id, actor, expected_version)
    return _edit_scenes(session, reel_id, make, actor, f"added scene {len(reel.scenes) + 1}", expected_version)


def remove_scene(session: Session, reel_id: int, number: int, *, actor: Actor,
                 expected_version: int | None = None) -> Reel:
    """Remove scene ``number`` (1-based) from a studio draft; records "removed scene N".

    Raises:
        ReelNotFoundError, PermissionDenied, ReelStateError, EditConflict: as :func:`set_scenes`.
        ReelValidationError: no such scene, or too few would remain (scene_based 3, studio 1).
    """

    def make(current: list[SceneInput]) -> list[SceneInput]:
        if not isinstance(number, int) or not 1 <= number <= len(current):
            raise _scene_number_problem(number, len(current))
        return [s for n, s in enumerate(current, start=1) if n != number]

    return _edit_scenes(session, reel_id, make, actor, f"removed scene {number}", expected_version)


def move_scene(session: Session, reel_id: int, number: int, to_number: int, *, actor: Actor,
               expected_version: int | None = None) -> Reel:
    """Move scene ``number`` to place ``to_number`` (both 1-based); records "moved scene N to M".

    Raises:
        ReelNotFoundError, PermissionDenied, ReelStateError, EditConflict: as :func:`set_scenes`.
        ReelValidationError: either number is not a scene of the reel.
    """

    def make(current: list[SceneInput]) -> list[SceneInput]:
        for value in (number, to_number):
            if not isinstance(value, int) or not 1 <= value <= len(current):
                raise _scene_number_problem(value, len(current))
        moved = current.pop(number - 1)
        current.insert(to_number - 1, moved)
        for n, s in enumerate(current, start=1):
            s.position = n
        return current

    return _edit_scenes(session, reel_id, make, actor, f"moved scene {number} to {to_number}", expected_version)


def duplicate_reel(session: Session, reel_id: int, *, actor: Actor) -> Reel:
    """Copy a reel (whatever its status) as a new draft owned by ``actor``, titled "<title> (copy)".

    Settings and scenes are copied; status, attempts, video and history are not (nor, for another
    owner, the scenes' own recordings). The copy's first event says which reel it came from. Flushes.

    Raises:
        ReelNotFoundError: no such reel.
        PermissionDenied: ``actor`` is neither the reel's owner (producer) nor an admin.
    """
    source = get_reel(session, reel_id)
    require_reel(actor, Action.DUPLICATE_REEL, source)
    suffix = " (copy)"
    title = (source.title or "").strip() or "Untitled reel"
    title = title[: TITLE_MAX_CHARS - len(suffix)] + suffix
    scenes = [dataclasses.replace(SceneInput.from_scene(s), uid=None) for s in sorted_scenes(source.scenes)]
    if actor.name != source.owner:  # own recordings stay with their owner: the copy's scenes need new audio
        scenes = [dataclasses.replace(s, audio_asset_ref=None) for s in scenes]
    reel = Reel(owner=actor.name, owner_id=actor.user_id, status="draft", attempt=0, version=1, title=title,
                mode=source.mode,
                aspect_ratio=source.aspect_ratio, resolution=source.resolution, captions=source.captions,
                engine=source.engine, workspace_id=source.workspace_id, folder_id=source.folder_id)
    reel.scenes = _scene_rows(scenes)
    session.add(reel)
    session.flush()
    _event(session, reel, actor, f"created as a copy of reel {source.id}", from_status="")
    script_versions.record_versions(session, reel, actor=actor, source="created", label=f"copied from reel {source.id}")
    session.flush()
    return reel


def delete_reel(session: Session, reel_id: int, *, actor: Actor) -> None:
    """Delete a draft, failed, cancelled or completed reel with its scenes, attempts and events.

    The video at HeyGen (if any) is not touched. Conditional ``DELETE … WHERE status IN
    (deletable)``, so a reel launched meanwhile is not deleted.

    Raises:
        ReelNotFoundError: no such reel.
        PermissionDenied: ``actor`` is neither the reel's owner (producer) nor an admin.
        ReelStateError: the reel is queued or being generated; cancel it first.
    """
    reel = get_reel(session, reel_id)
    require_reel(actor, Action.DELETE_REEL, reel)
    result = session.execute(
        delete(Reel).where(Reel.id == reel_id, Reel.status.in_(DELETABLE_STATUSES))
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        _reload(session, reel)
        raise ReelStateError(f"Reel {reel_id} is {reel.status} and cannot be deleted while it is queued or "
                             "being generated; cancel it first, or wait until it finishes.")
    for scene in list(reel.scenes):
        session.expunge(scene)
    session.expunge(reel)
    log.info("reel %s deleted by user %s", reel_id, actor.user_id if actor.user_id is not None else actor.kind)


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


def list_drafts(session: Session, owner_id: int | None, *, query: str = "", limit: int | None = 100) -> list[DraftRow]:
    """The drafts of user ``owner_id``, most recently edited first (one query, scene counts included).

    ``query`` keeps drafts whose title contains it (case-insensitive); ``limit`` caps the rows.
    ``None`` (no user) lists nothing.
    """
    if owner_id is None:
        return []
    where = [Reel.owner_id == owner_id, Reel.status == "draft"]
    if query.strip():
        where.append(Reel.title.ilike(f"%{query.strip()}%"))
    return _rows(session, where, limit)


#: How a reel without a title is called everywhere (Compose, Status, Home, Videos), followed by its id.
UNTITLED = "Untitled reel #"


def display_title(title: str | None, reel_id: int) -> str:
    """The reel's title, or ``"Untitled reel #<id>"`` when it has none."""
    return (title or "").strip() or f"{UNTITLED}{reel_id}"


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


def prefill(session: Session, *, actor: Actor, reel_id: int | None, voice_id: str | None = None,
            avatar_id: str | None = None, locale: str | None = None) -> Prefill:
    """Put ``voice_id`` and/or ``avatar_id`` into the first scene of draft ``reel_id`` that lacks them;
    when there is no such draft or scene, or ``actor`` may not edit it, create a new draft owned by
    ``actor`` with them in scene 1.

    ``reel_id`` None (a new tab, a reload) means ``actor``'s most recently edited draft, so "Use in a
    reel" keeps filling the draft being worked on instead of starting one per click. ``locale`` (a
    locale tag the voice offers, e.g. the accent the user filtered for) becomes the scene's accent.
    Records the usual edit/creation events; flushes, the caller commits.

    Raises:
        ValueError: neither ``voice_id`` nor ``avatar_id`` given.
        PermissionDenied: ``actor`` may not create reels.
        core.reels.validation.ReelValidationError: an id longer than a draft can hold.
    """
    if not voice_id and not avatar_id:
        raise ValueError("Give a voice_id or an avatar_id to prefill.")
    require(actor, Action.CREATE_REEL)
    if reel_id is None:
        latest = list_drafts(session, actor.user_id, limit=1)
        reel_id = latest[0].id if latest else None
    reel = session.get(Reel, reel_id) if reel_id is not None else None
    if reel is not None and reel.status == "draft" and can(actor, Action.EDIT_REEL, owner_id=reel.owner_id):
        number = first_open_scene(reel, voice=bool(voice_id), avatar=bool(avatar_id))
        if number is not None:
            inputs = [validation.SceneInput.from_scene(s) for s in sorted(reel.scenes, key=lambda s: s.position)]
            target = inputs[number - 1]
            if voice_id:
                target.voice_id, target.locale = voice_id, locale or None
            if avatar_id:
                target.avatar_id = avatar_id
            set_scenes(session, reel.id, inputs, actor=actor)
            return Prefill(reel.id, number, False)
    first = validation.SceneInput(position=1, voice_id=voice_id or None, avatar_id=avatar_id or None,
                                  locale=(locale or None) if voice_id else None)
    rest = [validation.SceneInput(position=n) for n in (2, 3)]
    created = create_reel(session, actor=actor, scenes=[first, *rest])
    return Prefill(created.id, 1, True)
