"""An account's own media in the sandbox: uploaded assets, photo avatars in training, voice clones.

State (in :class:`~core.sandbox.state.Store` ``data``): ``assets`` (asset_id → record with ``owner``,
``name``, ``mime_type``, ``kind``, ``size_bytes``, ``uploaded_at``, ``file``, ``duration_s``, ``width``,
``height``, ``deleted``), ``avatars`` (group_id → a photo avatar group with its one look) and
``clones`` (voice_id → a voice clone). Files live under ``<state root>/assets``, named by asset id
only (never by the uploaded file name).

Time model, like videos (Unix seconds from the configured clock, multiplied by ``time_scale``): a
photo avatar is ``processing`` for :data:`PHOTO_TRAIN_S`, a clone for :data:`CLONE_S`; then
``completed``/``complete`` — or ``failed`` with a reason when the ``avatar_fail_next`` /
``clone_fail_next`` knob was set at creation, the photo is smaller than :data:`MIN_PHOTO_PX` or the
recording shorter than :data:`MIN_CLONE_AUDIO_S`. With ``config.photo_avatar_consent`` a trained
group waits in ``pending_consent`` until its consent page is approved.

:class:`AccountCatalog` is the catalog one account sees: HeyGen's shared catalog plus its own
completed (and, for detail lookups, in-training) looks and voices.
"""

from __future__ import annotations

import unicodedata
from pathlib import Path
from typing import Any

import filetype

from core.sandbox.catalog import PHOTO_ENGINES, SandboxCatalog

#: Largest uploaded file, in bytes (HeyGen: 32 MB).
ASSET_MAX_BYTES = 32 * 1024 * 1024
#: Seconds (× time_scale) a photo avatar trains and a voice clone processes.
PHOTO_TRAIN_S = 20.0
CLONE_S = 15.0
#: Shortest side of a photo that trains, in pixels; shortest recording that clones, in seconds.
MIN_PHOTO_PX = 128
MIN_CLONE_AUDIO_S = 10.0
#: Longest audio a scene may use, in seconds (HeyGen: 10 minutes).
MAX_SCENE_AUDIO_S = 600.0

#: Detected MIME type → (asset ``type``, file extension).
MIME_KINDS = {
    "image/png": ("image", "png"), "image/jpeg": ("image", "jpg"), "video/mp4": ("video", "mp4"),
    "video/webm": ("video", "webm"), "audio/mpeg": ("audio", "mp3"), "audio/wav": ("audio", "wav"),
    "application/pdf": ("document", "pdf"), "application/x-subrip": ("subtitle", "srt"),
}
_MIME_ALIASES = {"audio/x-wav": "audio/wav", "audio/vnd.wave": "audio/wav", "video/x-matroska": "video/webm"}


def detect_mime(head: bytes) -> str | None:
    """The MIME type of a file from its first bytes, among the types HeyGen accepts; ``None`` otherwise."""
    mime = filetype.guess_mime(head)
    mime = _MIME_ALIASES.get(mime or "", mime)
    if mime in MIME_KINDS:
        return mime
    if head[:4] == b"\x1aE\xdf\xa3" and b"webm" in head[:64]:
        return "video/webm"
    try:
        text = head.decode("utf-8")
    except UnicodeDecodeError:
        return None
    return "application/x-subrip" if "-->" in text and text.strip()[:1].isdigit() else None


def display_name(filename: str | None) -> str:
    """The stored asset name: the last path part of ``filename`` without control characters (≤ 255)."""
    name = (filename or "").replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(ch for ch in name if unicodedata.category(ch)[0] != "C").strip()
    return (name or "upload")[:255]


def assets_of(data: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """``data["assets"]`` (created on first use, for state files written before it existed)."""
    return data.setdefault("assets", {})


def avatars_of(data: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """``data["avatars"]``: group_id → own photo avatar group record."""
    return data.setdefault("avatars", {})


def clones_of(data: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """``data["clones"]``: voice_id → own voice clone record."""
    return data.setdefault("clones", {})


def live_asset(data: dict[str, Any], owner: str, asset_id: str | None) -> dict[str, Any] | None:
    """The account's asset ``asset_id`` unless unknown, foreign or deleted."""
    asset = assets_of(data).get(asset_id or "")
    if asset is None or asset["owner"] != owner or asset.get("deleted"):
        return None
    return asset


def asset_view(asset: dict[str, Any], base_url: str) -> dict[str, Any]:
    """The ``GET /v3/assets/{asset_id}`` object."""
    return {"id": asset["id"], "name": asset["name"], "type": asset["kind"], "owner": "sandbox",
            "space_id": "space_sandbox", "uploaded_at": int(asset["uploaded_at"]),
            "url": asset_url(asset, base_url), "folder_id": None}


def asset_url(asset: dict[str, Any], base_url: str) -> str:
    """Public URL of an asset's file on the sandbox."""
    return f"{base_url}/_sandbox/assets/{asset['id']}.{asset['ext']}"


# ---------------------------------------------------------------------------------------------- training


def training_status(record: dict[str, Any], now: float) -> str:
    """``processing``, ``pending_consent``, ``completed`` or ``failed`` of a photo avatar group at ``now``."""
    if now < record["created_at"] + record["train_s"]:
        return "processing"
    if record.get("failure"):
        return "failed"
    if record.get("consent_required") and not record.get("consented"):
        return "pending_consent"
    return "completed"


def clone_status(record: dict[str, Any], now: float) -> str:
    """``processing``, ``complete`` or ``failed`` of a voice clone at ``now``."""
    if now < record["created_at"] + record["process_s"]:
        return "processing"
    return "failed" if record.get("failure") else "complete"


def _error(record: dict[str, Any], status: str) -> dict[str, str] | None:
    return dict(record["failure"]) if status == "failed" else None


def own_look(record: dict[str, Any], now: float, base_url: str) -> dict[str, Any]:
    """The ``GET /v3/avatars/looks/{look_id}`` object of an own photo avatar."""
    status = training_status(record, now)
    width, height = record["width"], record["height"]
    orientation = "square" if abs(width - height) <= min(width, height) * 0.1 else (
        "portrait" if height > width else "landscape")
    look_status = "completed" if status == "pending_consent" else status
    return {"id": record["look_id"], "name": record["name"], "avatar_type": "photo_avatar",
            "group_id": record["id"], "gender": None,
            "preview_image_url": f"{base_url}/_sandbox/assets/{record['asset_id']}.{record['ext']}",
            "preview_video_url": None, "default_voice_id": None, "tags": [], "preferred_orientation": orientation,
            "image_width": width, "image_height": height, "supported_api_engines": list(PHOTO_ENGINES),
            "status": look_status, "error": _error(record, status)}


def own_group(record: dict[str, Any], now: float, base_url: str) -> dict[str, Any]:
    """The ``GET /v3/avatars/{group_id}`` object of an own photo avatar group."""
    status = training_status(record, now)
    consent = None
    if record.get("consent_required"):
        consent = "approved" if record.get("consented") else "pending"
    return {"id": record["id"], "name": record["name"], "created_at": int(record["created_at"]), "looks_count": 1,
            "gender": None, "preview_image_url": f"{base_url}/_sandbox/assets/{record['asset_id']}.{record['ext']}",
            "preview_video_url": None, "default_voice_id": None, "consent_status": consent, "status": status,
            "error": _error(record, status)}


def own_voice(record: dict[str, Any], base_url: str) -> dict[str, Any]:
    """The ``GET /v3/voices`` item of a completed clone (a private Starfish voice)."""
    return {"voice_id": record["id"], "name": record["name"], "language": record["language"], "gender": "unknown",
            "preview_audio_url": f"{base_url}/_sandbox/media/clone/{record['id']}.wav", "support_pause": False,
            "support_locale": False, "type": "private"}


def own_voice_detail(record: dict[str, Any], now: float, base_url: str) -> dict[str, Any]:
    """The ``GET /v3/voices/{voice_id}`` object of a clone, with ``status`` and ``failure_message``."""
    status = clone_status(record, now)
    detail = {"voice_id": record["id"], "name": record["name"], "language": record["language"], "gender": None,
              "preview_audio_url": None, "support_pause": False, "support_interactive_avatar": False,
              "created_at": int(record["created_at"]), "status": status, "failure_message": None}
    if status == "complete":
        detail.update(gender="unknown", preview_audio_url=own_voice(record, base_url)["preview_audio_url"])
    if status == "failed":
        detail["failure_message"] = record["failure"]["message"]
    return detail


class AccountCatalog:
    """HeyGen's shared sandbox catalog plus one account's own looks and voices, at one moment.

    Offers the lookups :func:`core.sandbox.videos.plan_video` and the catalog routes use. Own looks
    and voices come first in listings (as HeyGen lists private items first); listings contain only
    usable ones (trained looks, complete clones), detail lookups also those in training.
    """

    def __init__(self, base: SandboxCatalog, data: dict[str, Any], owner: str, now: float, base_url: str) -> None:
        self.base = base
        self.now = now
        self.base_url = base_url
        self._data, self._owner = data, owner
        self._groups = [r for r in avatars_of(data).values() if r["owner"] == owner]
        self._clones = [r for r in clones_of(data).values() if r["owner"] == owner]

    @property
    def voices(self) -> list[dict[str, Any]]:
        """Listed voices: complete clones, then the shared catalog."""
        own = [own_voice(r, self.base_url) for r in self._clones if clone_status(r, self.now) == "complete"]
        return own + self.base.voices

    @property
    def looks(self) -> list[dict[str, Any]]:
        """Listed looks: trained own photo avatars, then the shared catalog."""
        return [own_look(r, self.now, self.base_url) for r in self._usable_groups()] + self.base.looks

    @property
    def groups(self) -> list[dict[str, Any]]:
        """Listed groups: own photo avatar groups (every state), then the shared catalog."""
        return [own_group(r, self.now, self.base_url) for r in self._groups] + self.base.groups

    def _usable_groups(self) -> list[dict[str, Any]]:
        return [r for r in self._groups if training_status(r, self.now) in ("completed", "pending_consent")]

    def _clone(self, voice_id: str) -> dict[str, Any] | None:
        return next((r for r in self._clones if r["id"] == voice_id), None)

    def voice(self, voice_id: str) -> dict[str, Any] | None:
        """A usable voice by id (a clone only once complete), or ``None``."""
        clone = self._clone(voice_id)
        if clone is not None:
            return own_voice(clone, self.base_url) if clone_status(clone, self.now) == "complete" else None
        return self.base.voice(voice_id)

    def voice_detail(self, voice_id: str) -> dict[str, Any] | None:
        """The ``GET /v3/voices/{voice_id}`` object (clones in every state), or ``None``."""
        clone = self._clone(voice_id)
        if clone is not None:
            return own_voice_detail(clone, self.now, self.base_url)
        return self.base.voice_detail(voice_id) if self.base.voice(voice_id) else None

    def voice_engine(self, voice_id: str) -> str:
        """``starfish`` for clones, else the shared catalog's engine; ``KeyError`` if unknown."""
        return "starfish" if self._clone(voice_id) is not None else self.base.voice_engine(voice_id)

    def look(self, look_id: str) -> dict[str, Any] | None:
        """A look by id, own ones in any training state (check ``status``), or ``None``."""
        record = next((r for r in self._groups if r["look_id"] == look_id), None)
        return own_look(record, self.now, self.base_url) if record else self.base.look(look_id)

    def group(self, group_id: str) -> dict[str, Any] | None:
        """A group by id (own ones in any state), or ``None``."""
        record = next((r for r in self._groups if r["id"] == group_id), None)
        return own_group(record, self.now, self.base_url) if record else self.base.group(group_id)

    def looks_of_group(self, group_id: str) -> list[dict[str, Any]]:
        """Looks of a group; an own group lists its look in every training state."""
        record = next((r for r in self._groups if r["id"] == group_id), None)
        return [own_look(record, self.now, self.base_url)] if record else self.base.looks_of_group(group_id)

    def asset(self, asset_id: str) -> dict[str, Any] | None:
        """The account's live asset ``asset_id`` (e.g. a scene's ``audio_asset_id``), or ``None``."""
        return live_asset(self._data, self._owner, asset_id)


def asset_path(root: Path, asset: dict[str, Any]) -> Path:
    """Where an asset's bytes are stored under the sandbox ``root``."""
    return root / "assets" / f"{asset['id']}.{asset['ext']}"
