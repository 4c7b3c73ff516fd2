"""A user's own media: recordings for scenes, voice samples and photos, their HeyGen assets, and the
photo avatars and voice clones made from them.

Flow: :func:`store_media` checks the bytes (:mod:`core.reels.media_checks`), keeps a copy under
``DATA_DIR/media/<sha256>.<ext>`` and records a :class:`~core.models.MediaAsset` row in state
``pending`` — nothing is sent yet, so a draft that refers to it is safe whatever happens next.
:func:`upload_media` sends the copy with ``POST /v3/assets`` and the row's own ``Idempotency-Key``:
a dropped connection or a HeyGen 5xx leaves the row ``failed`` with one sentence saying what to do,
and the retry re-sends the same key, so HeyGen returns the first asset instead of a second one.
The same file from the same owner for the same purpose is always the same row.

:func:`start_photo_avatar` and :func:`start_voice_clone` create HeyGen's photo avatar / voice clone
from an uploaded row; :func:`refresh_training` polls their status (asking for consent when HeyGen
waits for it) and stores HeyGen's failure reason. :func:`delete_media` refuses while a queued or
rendering reel uses the file. Functions flush and leave committing to the caller.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.access.actor import Actor
from core.access.permissions import Action, PermissionDenied, require
from core.heygen.errors import HeyGenError, NotFoundError
from core.models import ACTIVE_STATUSES, MEDIA_PURPOSES, MediaAsset, Reel, Scene
from core.reels import media_checks

MEDIA_FOLDER = "media"
#: Reel statuses during which its files must stay (queued or at HeyGen).
BUSY_STATUSES = ("queued", *ACTIVE_STATUSES)
#: Training states after which nothing changes any more.
FINAL_TRAINING = ("completed", "complete", "failed")
_CHECKS = {"scene_audio": media_checks.check_scene_audio, "voice_sample": media_checks.check_voice_sample,
           "photo": media_checks.check_photo}
_EXT = {"wav": "wav", "mp3": "mp3", "png": "png", "jpeg": "jpg"}


class MediaError(ValueError):
    """An own-media action is not possible; ``str(exc)`` is one sentence for the user."""


@dataclass(frozen=True)
class Usage:
    """One scene that uses a file: reel id, title and status, and the 1-based scene number."""

    reel_id: int
    title: str
    status: str
    scene_number: int


def _owner(actor: Actor) -> str:
    """The owner name of files ``actor`` adds.

    Raises:
        PermissionDenied: ``actor`` may not add own media (viewers, the worker).
    """
    require(actor, Action.USE_OWN_MEDIA)
    return actor.name


def _require_owner(actor: Actor, row: MediaAsset) -> None:
    """``actor`` may change ``row``: its owner (producer or higher) or an admin.

    Raises:
        PermissionDenied: anyone else.
    """
    require(actor, Action.USE_OWN_MEDIA)
    if row.owner != actor.name and actor.role != "admin":
        raise PermissionDenied(f"Only {row.owner} (owner) or an admin can change this file.",
                               action=Action.USE_OWN_MEDIA, actor_name=actor.name)


def _write_once(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` atomically unless an identical file (same name = same hash) exists."""
    if path.exists() and path.stat().st_size == len(data):
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex[:8]}.tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)


def store_media(session: Session, data_dir: Path | str, data: bytes, filename: str | None, *, purpose: str,
                actor: Actor) -> tuple[MediaAsset, tuple[str, ...]]:
    """Check ``data`` for ``purpose`` and keep it (state ``pending``); returns the row and warnings.

    The same bytes stored again by the same owner for the same purpose return the existing row
    (and its HeyGen asset, if uploaded).

    Args:
        purpose: ``scene_audio``, ``voice_sample`` or ``photo``; filename: the user's name for the
            file (cleaned: folders and control characters dropped); actor: who adds it (its owner).

    Raises:
        media_checks.MediaRejected: the file is unusable (nothing is stored); PermissionDenied: ``actor``
            may not add own media.
    """
    if purpose not in MEDIA_PURPOSES:
        raise ValueError(f"unknown purpose {purpose!r}")
    owner = _owner(actor)
    checked = _CHECKS[purpose](data, filename)
    digest = hashlib.sha256(data).hexdigest()
    existing = session.scalar(select(MediaAsset).where(MediaAsset.owner == owner, MediaAsset.purpose == purpose,
                                                       MediaAsset.sha256 == digest))
    if existing is not None:
        return existing, checked.warnings
    relative = f"{MEDIA_FOLDER}/{digest}.{_EXT[checked.format]}"
    _write_once(Path(data_dir) / relative, data)
    row = MediaAsset(owner=owner, purpose=purpose, name=checked.name, format=checked.format,
                     mime_type=checked.mime_type, size_bytes=checked.size_bytes, duration_s=checked.duration_s,
                     width=checked.width, height=checked.height, sha256=digest, local_path=relative,
                     idempotency_key=f"asset-{purpose}-{uuid.uuid4().hex}", upload_status="pending")
    session.add(row)
    session.flush()
    return row, checked.warnings


def local_file(row: MediaAsset, data_dir: Path | str) -> Path:
    """The kept copy of an own file (for playback and re-sending)."""
    return Path(data_dir) / row.local_path


def upload_media(session: Session, client: Any, data_dir: Path | str, row: MediaAsset, *, actor: Actor,
                 progress: Callable[[int, int], None] | None = None) -> MediaAsset:
    """Send an own file to HeyGen (``POST /v3/assets``) unless it is there already.

    ``progress(sent_bytes, total_bytes)`` follows the upload. On failure the row is ``failed`` with
    ``upload_error`` and the error is raised; the draft and the kept copy are untouched.

    Raises:
        MediaError: the upload failed (one sentence: what happened and that a retry is safe);
        PermissionDenied: ``actor`` is neither the file's owner nor an admin.
    """
    _require_owner(actor, row)
    if row.upload_status == "uploaded" and row.asset_id:
        return row
    path = local_file(row, data_dir)
    if not path.is_file():
        row.upload_status, row.upload_error = "failed", "The kept copy of the file is missing; add it again."
        session.flush()
        raise MediaError(f"The kept copy of '{row.name}' is missing; add the file again.")
    try:
        uploaded = client.upload_asset(path, filename=row.name, content_type=row.mime_type, progress=progress,
                                       idempotency_key=row.idempotency_key)
    except HeyGenError as exc:
        row.upload_status, row.upload_error = "failed", exc.user_message
        session.flush()
        raise MediaError(f"'{row.name}' did not reach HeyGen ({exc.user_message.rstrip('.')}); your draft is "
                         "kept — press “Retry upload”, it will not create a second copy.") from exc
    row.asset_id, row.url, row.upload_status, row.upload_error = uploaded.asset_id, uploaded.url, "uploaded", None
    session.flush()
    return row


def list_media(session: Session, *, owner: str, purpose: str | None = None) -> list[MediaAsset]:
    """The owner's files, newest first (optionally of one purpose)."""
    query = select(MediaAsset).where(MediaAsset.owner == owner)
    if purpose:
        query = query.where(MediaAsset.purpose == purpose)
    return list(session.scalars(query.order_by(MediaAsset.created_at.desc(), MediaAsset.id.desc())))


def get_media(session: Session, media_id: int, *, owner: str) -> MediaAsset:
    """One of the owner's files.

    Raises:
        MediaError: unknown id or another owner's file.
    """
    row = session.get(MediaAsset, media_id)
    if row is None or row.owner != owner:
        raise MediaError("That file is not in your media (it may have been deleted).")
    return row


def usage(session: Session, media_ids: Sequence[int]) -> dict[int, list[Usage]]:
    """Where each file is used: media id → the scenes (reel, number) that speak it."""
    if not media_ids:
        return {}
    rows = session.execute(select(Scene.audio_asset_ref, Scene.position, Reel.id, Reel.title, Reel.status)
                           .join(Reel, Scene.reel_id == Reel.id)
                           .where(Scene.audio_asset_ref.in_(list(media_ids)))
                           .order_by(Reel.id, Scene.position)).all()
    out: dict[int, list[Usage]] = {}
    for ref, position, reel_id, title, status in rows:
        out.setdefault(ref, []).append(Usage(reel_id, title or f"Reel {reel_id}", status, position))
    return out


def delete_media(session: Session, client: Any, data_dir: Path | str, media_id: int, *, actor: Actor) -> None:
    """Delete an own file here and at HeyGen (``DELETE /v3/assets/{asset_id}``).

    Drafts that used it lose the recording (their scenes need new audio); refused while a queued or
    rendering reel uses it. An asset HeyGen no longer has is not an error.

    Raises:
        MediaError: not the actor's file, or in use by a busy reel; HeyGenError: HeyGen refused.
    """
    row = get_media(session, media_id, owner=actor.name)
    _require_owner(actor, row)
    busy = [u for u in usage(session, [row.id]).get(row.id, []) if u.status in BUSY_STATUSES]
    if busy:
        raise MediaError(f"'{row.name}' is used by “{busy[0].title}”, which is {busy[0].status}; delete it "
                         "after that reel has finished.")
    if row.asset_id:
        with contextlib.suppress(NotFoundError):  # already gone at HeyGen
            client.delete_asset(row.asset_id)
    for scene in session.scalars(select(Scene).where(Scene.audio_asset_ref == row.id)):
        scene.audio_asset_ref = None
    shared = session.scalar(select(MediaAsset.id).where(MediaAsset.local_path == row.local_path,
                                                        MediaAsset.id != row.id).limit(1))
    session.delete(row)
    session.flush()
    if shared is None:
        local_file(row, data_dir).unlink(missing_ok=True)


# ---------------------------------------------------------------------------------------------- made from media


def start_photo_avatar(session: Session, client: Any, data_dir: Path | str, row: MediaAsset, name: str, *,
                       consent: bool, actor: Actor) -> MediaAsset:
    """Upload a photo (if needed) and start training a photo avatar from it: ``POST /v3/avatars``.

    Args:
        name: the avatar's name (1–200 characters); consent: the user confirmed that the person in
            the photo agreed to become an avatar.

    Raises:
        MediaError: no consent, bad name, not a photo, already made, or the upload failed; HeyGenError.
    """
    _require_owner(actor, row)
    if not consent:
        raise MediaError("Confirm that the person in the photo agreed to become an avatar.")
    name = _label(name, "avatar")
    if row.purpose != "photo":
        raise MediaError("Only a photo can become a photo avatar.")
    if row.heygen_id:
        raise MediaError(f"'{row.name}' is already the photo avatar “{row.label}”.")
    upload_media(session, client, data_dir, row, actor=actor)
    created = client.create_photo_avatar(name, row.asset_id, idempotency_key=f"avatar-{row.idempotency_key}")
    look, group = created.avatar_item, created.avatar_group
    row.label, row.heygen_id = name, look.id if look else None
    row.group_id = group.id if group else (look.group_id if look else None)
    row.training_status = (group.status if group else None) or (look.status if look else None) or "processing"
    session.flush()
    return row


def start_voice_clone(session: Session, client: Any, data_dir: Path | str, row: MediaAsset, name: str, *,
                      actor: Actor, language: str | None = None) -> MediaAsset:
    """Upload a voice sample (if needed) and clone it: ``POST /v3/voices/clone``.

    Raises:
        MediaError: bad name, not a voice sample, already cloned, or the upload failed; HeyGenError.
    """
    _require_owner(actor, row)
    name = _label(name, "voice")
    if row.purpose != "voice_sample":
        raise MediaError("Only a voice sample can be cloned.")
    if row.heygen_id:
        raise MediaError(f"'{row.name}' is already the voice “{row.label}”.")
    upload_media(session, client, data_dir, row, actor=actor)
    row.heygen_id = client.clone_voice(name, row.asset_id, language=language)
    row.label, row.training_status = name, "processing"
    session.flush()
    return row


def _label(name: str, what: str) -> str:
    name = " ".join((name or "").split())
    if not name:
        raise MediaError(f"Give the {what} a name.")
    if len(name) > 200:
        raise MediaError(f"The {what}'s name is {len(name)} characters long; use at most 200.")
    return name


def _error_text(error: dict[str, Any] | None) -> str | None:
    if not error:
        return None
    return str(error.get("message") or error.get("code") or "HeyGen gave no reason.")


def refresh_training(session: Session, client: Any, row: MediaAsset, *, actor: Actor) -> bool:
    """Ask HeyGen how a photo avatar or voice clone is doing; returns True when its status changed.

    A photo avatar waiting for consent gets its consent page (``POST /v3/avatars/{group_id}/consent``)
    once; a failure stores HeyGen's reason in ``training_error``. Finished rows are not asked again.

    Raises:
        HeyGenError subclasses (the row is left unchanged); PermissionDenied: not the owner or an admin.
    """
    _require_owner(actor, row)
    if not row.heygen_id or row.training_status in FINAL_TRAINING:
        return False
    before = row.training_status
    if row.purpose == "photo":
        group = client.get_avatar_group(row.group_id) if row.group_id else None
        looks = client.list_group_looks(row.group_id) if row.group_id else []
        look = next((lk for lk in looks if lk.id == row.heygen_id), None)
        status = (group.status if group else None) or (look.status if look else None) or before
        row.training_error = _error_text((group.error if group else None) or (look.error if look else None))
        if status == "pending_consent" and not row.consent_url:
            row.consent_url = client.create_avatar_consent(
                row.group_id, idempotency_key=f"consent-{row.idempotency_key}").url
    else:
        detail = client.get_voice(row.heygen_id, refresh=True)
        status, row.training_error = detail.status or before, detail.failure_message
    if status == "failed" and not row.training_error:
        row.training_error = "HeyGen gave no reason."
    row.training_status = status
    session.flush()
    return status != before


def in_training(session: Session, *, owner: str) -> list[MediaAsset]:
    """The owner's photo avatars and clones that HeyGen is still working on."""
    return [r for r in list_media(session, owner=owner) if r.heygen_id and r.training_status not in FINAL_TRAINING]
