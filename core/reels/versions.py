"""Script history: every saved text of each scene's script, and what each attempt said.

A scene is identified by its :attr:`~core.models.Scene.uid`, which survives edits, moves and the
replacement of scene rows. :func:`record_versions` runs inside every scene edit (after the edit's
conditional write, so concurrent edits each keep their version) and adds a
:class:`~core.models.ScriptVersion` for every scene whose script differs from its latest version.
A launch stores on its attempt the versions its scenes say (:func:`current_version_ids`).

Functions take a SQLAlchemy session, flush, and leave committing to the caller. Times are aware UTC.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core.access.actor import Actor
from core.models import ReelAttempt, ScriptVersion

#: Where a version came from (see :class:`~core.models.ScriptVersion`).
SOURCES = ("edit", "draft", "restore", "created", "import")
LABEL_MAX_CHARS = 200
HISTORY_LIMIT = 200


def latest_versions(session: Session, reel_id: int) -> dict[str, ScriptVersion]:
    """``{scene uid: its newest version}`` for reel ``reel_id`` (one query)."""
    newest = (select(func.max(ScriptVersion.id)).where(ScriptVersion.reel_id == reel_id)
              .group_by(ScriptVersion.scene_uid).scalar_subquery())
    rows = session.scalars(select(ScriptVersion).where(ScriptVersion.id.in_(newest)))
    return {v.scene_uid: v for v in rows}


def record_versions(session: Session, reel: Any, *, actor: Actor, source: str = "edit", label: str = "",
                    restored_from: int | None = None, scenes: Iterable[Any] | None = None) -> list[ScriptVersion]:
    """Add a version for each scene of ``reel`` (or of ``scenes``) whose script differs from its latest
    version; an empty script with no history yet adds nothing. Returns the new versions (flushed).

    Raises:
        ValueError: ``source`` is not one of :data:`SOURCES`.
    """
    return _record(session, reel, latest_versions(session, reel.id), actor=actor, source=source, label=label,
                   restored_from=restored_from, scenes=scenes)


def _record(session: Session, reel: Any, latest: dict[str, ScriptVersion], *, actor: Actor, source: str,
            label: str = "", restored_from: int | None = None, scenes: Iterable[Any] | None = None,
            ) -> list[ScriptVersion]:
    """:func:`record_versions` against a known ``latest`` map, which is updated with the new versions."""
    if source not in SOURCES:
        raise ValueError(f"source must be one of {', '.join(SOURCES)}.")
    added = []
    for scene in sorted(scenes if scenes is not None else reel.scenes, key=lambda s: s.position):
        last = latest.get(scene.uid)
        text = scene.script or ""
        if (last is None and not text.strip()) or (last is not None and last.text == text):
            continue
        version = ScriptVersion(reel_id=reel.id, scene_uid=scene.uid, text=text, actor=actor.name, actor_id=actor.user_id,
                                source=source,
                                label=(label or "")[:LABEL_MAX_CHARS], restored_from=restored_from)
        session.add(version)
        added.append(version)
        latest[scene.uid] = version
    if added:
        session.flush()
    return added


def scene_history(session: Session, reel_id: int, scene_uid: str, *, limit: int = HISTORY_LIMIT) -> list[ScriptVersion]:
    """Versions of one scene's script, newest first (at most ``limit``)."""
    stmt = (select(ScriptVersion).where(ScriptVersion.reel_id == reel_id, ScriptVersion.scene_uid == scene_uid)
            .order_by(ScriptVersion.id.desc()).limit(limit))
    return list(session.scalars(stmt))


def history_counts(session: Session, reel_id: int) -> dict[str, int]:
    """``{scene uid: number of versions}`` for reel ``reel_id``."""
    stmt = (select(ScriptVersion.scene_uid, func.count(ScriptVersion.id)).where(ScriptVersion.reel_id == reel_id)
            .group_by(ScriptVersion.scene_uid))
    return dict(session.execute(stmt).all())


def get_version(session: Session, reel_id: int, version_id: int) -> ScriptVersion:
    """Version ``version_id`` of reel ``reel_id``.

    Raises:
        LookupError: no such version on this reel.
    """
    version = session.get(ScriptVersion, version_id)
    if version is None or version.reel_id != reel_id:
        raise LookupError(f"Version {version_id} is not part of reel {reel_id}'s history.")
    return version


def diff_text(old: str, new: str) -> str:
    """A line diff from ``old`` to ``new`` (``- removed`` / ``+ added`` / ``  same`` lines); ``""`` when equal."""
    if old == new:
        return ""
    lines = difflib.ndiff(old.splitlines() or [""], new.splitlines() or [""])
    return "\n".join(line for line in lines if not line.startswith("? "))


def current_version_ids(session: Session, reel: Any, *, actor: Actor) -> list[int]:
    """Ids of the versions ``reel``'s scenes say now, in scene order (what a launch records on its attempt).

    A scene whose current script has no version yet (history that began mid-edit) gets one first.
    One query when every script has its version.
    """
    latest = latest_versions(session, reel.id)
    _record(session, reel, latest, actor=actor, source="edit")
    return [latest[s.uid].id for s in sorted(reel.scenes, key=lambda s: s.position) if s.uid in latest]


def attempt_scripts(session: Session, attempt: ReelAttempt) -> list[ScriptVersion]:
    """The versions an attempt said, in scene order (``[]`` for attempts from before history began)."""
    ids = list(attempt.script_version_ids or [])
    if not ids:
        return []
    found = {v.id: v for v in session.scalars(select(ScriptVersion).where(ScriptVersion.id.in_(ids)))}
    return [found[i] for i in ids if i in found]
