"""The sandbox's HeyGen catalog: the vendored 2026-02-26 legacy dumps converted into v3 objects.

Inputs (gzip JSON in ``core/data``): ``voices_2026-02-26.json.gz`` = ``{"data": {"voices": [2,326]}}`` and
``avatars_2026-02-26.json.gz`` = ``{"data": {"avatars": [1,291], "talking_photos": [5,658]}}``. The rules are
those of docs/heygen-v3.md §9.2:

* raw strings are kept as they are (``"Male"``, ``""``, ``"Filipino "``, names with ``\\n``/NBSP/emoji);
* voices: ``preview_audio`` → ``preview_audio_url`` (the ORIGINAL dump URL; the sandbox serves local media
  in its place), ``type`` ``private`` for the two "chad" clones listed first, else ``public``;
  ``emotion_support`` dropped. The engine behind a voice (32-hex id → ``starfish``, 20-char id →
  ``elevenlabs``) is not a public field and is exposed only through :meth:`SandboxCatalog.voice_engine`;
* avatars → looks: the two private ids listed twice are deduplicated; 32-hex ids are the account's
  ``digital_twin`` looks (``status: "completed"``), readable ids are ``studio_avatar`` looks; ``group_id`` is
  the first ``_``-token of the id (a 32-hex id is its own group); landscape 1920×1080; ``tags: []``;
* talking photos (only on request) → ``photo_avatar`` looks, each its own group, portrait 1080×1920;
* groups are derived from looks in first-appearance order.

Everything is in dump order, the stable order the sandbox pages through. Returned dicts are cached and
shared per process: treat them as read-only (copy before changing a field such as a preview URL).
"""

from __future__ import annotations

import functools
import gzip
import json
import re
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

DATA_DIR = Path(__file__).resolve().parents[1] / "data"
VOICES_FILE = DATA_DIR / "voices_2026-02-26.json.gz"
AVATARS_FILE = DATA_DIR / "avatars_2026-02-26.json.gz"

# Unix seconds used for every catalog ``created_at`` (the dump date, 2026-02-26T00:00:00Z).
CATALOG_EPOCH = int(datetime(2026, 2, 26, tzinfo=UTC).timestamp())
# The account's cloned voices ("chad"), listed first in the dump.
PRIVATE_VOICE_IDS = frozenset({"b99b17cac41f4376bd291820c4854711", "c3ee62eace034e2c80b4f557a12233ca"})

STUDIO_ENGINES = ["avatar_iv", "avatar_iii"]
DIGITAL_TWIN_ENGINES = ["avatar_v", "avatar_iv", "avatar_iii"]
PHOTO_ENGINES = ["avatar_iv", "avatar_iii"]

_HEX32 = re.compile(r"[0-9a-f]{32}")


def is_hex_id(value: str) -> bool:
    """True for a 32-character lower-case hex id (private avatars, Starfish voices)."""
    return bool(_HEX32.fullmatch(value))


def voice_engine_for(voice_id: str) -> str:
    """The TTS engine behind a catalog voice: ``starfish`` for 32-hex ids, else ``elevenlabs``."""
    return "starfish" if is_hex_id(voice_id) else "elevenlabs"


def group_id_for(look_id: str) -> str:
    """Group of a studio/private look: the first ``_``-token of the id; a 32-hex id is its own group."""
    return look_id if is_hex_id(look_id) else look_id.split("_", 1)[0]


# --------------------------------------------------------------------------------------------------
# Conversion of single records


def convert_voice(raw: dict[str, Any]) -> dict[str, Any]:
    """A dump voice → a ``GET /v3/voices`` item (8 keys, raw values)."""
    return {
        "voice_id": raw["voice_id"],
        "name": raw["name"],
        "language": raw["language"],
        "gender": raw["gender"],
        "preview_audio_url": raw["preview_audio"],
        "support_pause": raw["support_pause"],
        "support_locale": raw["support_locale"],
        "type": "private" if raw["voice_id"] in PRIVATE_VOICE_IDS else "public",
    }


def voice_detail_of(voice: dict[str, Any], support_interactive_avatar: bool) -> dict[str, Any]:
    """A ``GET /v3/voices/{voice_id}`` ``data`` object from a list item; ``status`` only for clones."""
    detail = {k: voice[k] for k in ("voice_id", "name", "language", "gender", "preview_audio_url",
                                    "support_pause")}
    detail["support_interactive_avatar"] = support_interactive_avatar
    detail["created_at"] = CATALOG_EPOCH
    if voice["type"] == "private":
        detail["status"] = "complete"
    return detail


def convert_avatar(raw: dict[str, Any]) -> dict[str, Any]:
    """A dump avatar → a ``GET /v3/avatars/looks`` item (studio_avatar, or digital_twin for 32-hex ids)."""
    private = is_hex_id(raw["avatar_id"])
    return {
        "id": raw["avatar_id"],
        "name": raw["avatar_name"],
        "avatar_type": "digital_twin" if private else "studio_avatar",
        "group_id": group_id_for(raw["avatar_id"]),
        "gender": raw["gender"],
        "preview_image_url": raw["preview_image_url"],
        "preview_video_url": raw["preview_video_url"],
        "default_voice_id": raw["default_voice_id"],
        "tags": list(raw["tags"] or []),
        "preferred_orientation": "landscape",
        "image_width": 1920,
        "image_height": 1080,
        "supported_api_engines": list(DIGITAL_TWIN_ENGINES if private else STUDIO_ENGINES),
        "status": "completed" if private else None,
        "error": None,
    }


def convert_talking_photo(raw: dict[str, Any]) -> dict[str, Any]:
    """A dump talking photo → a ``photo_avatar`` look that is its own group (no gender, no video)."""
    return {
        "id": raw["talking_photo_id"],
        "name": raw["talking_photo_name"],
        "avatar_type": "photo_avatar",
        "group_id": raw["talking_photo_id"],
        "gender": None,
        "preview_image_url": raw["preview_image_url"],
        "preview_video_url": None,
        "default_voice_id": None,
        "tags": [],
        "preferred_orientation": "portrait",
        "image_width": 1080,
        "image_height": 1920,
        "supported_api_engines": list(PHOTO_ENGINES),
        "status": None,
        "error": None,
    }


def derive_groups(looks: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """``GET /v3/avatars`` items from looks, in first-appearance order.

    ``name`` = the group id for multi-look groups, the look name for single-look groups; ``gender`` = the most
    common look gender (first seen wins ties); previews and ``status`` from the first look.
    """
    members: dict[str, list[dict[str, Any]]] = {}
    for look in looks:
        members.setdefault(look["group_id"], []).append(look)
    groups = []
    for group_id, group_looks in members.items():
        first = group_looks[0]
        genders = Counter(look["gender"] for look in group_looks)
        groups.append({
            "id": group_id,
            "name": first["name"] if len(group_looks) == 1 else group_id,
            "created_at": CATALOG_EPOCH,
            "looks_count": len(group_looks),
            "gender": genders.most_common(1)[0][0],
            "preview_image_url": first["preview_image_url"],
            "preview_video_url": first["preview_video_url"],
            "default_voice_id": None,
            "consent_status": None,
            "status": first["status"],
            "error": None,
        })
    return groups


# --------------------------------------------------------------------------------------------------
# The catalog


@dataclass(frozen=True)
class SandboxCatalog:
    """Converted catalog in dump order. ``voices``/``looks``/``groups`` hold v3 objects with public fields
    only; lookups by id return ``None`` (or raise ``KeyError`` where stated) for unknown ids."""

    voices: list[dict[str, Any]]
    looks: list[dict[str, Any]]
    groups: list[dict[str, Any]]
    _voice_details: dict[str, dict[str, Any]] = field(repr=False)
    _engines: dict[str, str] = field(repr=False)
    _voices_by_id: dict[str, dict[str, Any]] = field(init=False, repr=False)
    _looks_by_id: dict[str, dict[str, Any]] = field(init=False, repr=False)
    _groups_by_id: dict[str, dict[str, Any]] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_voices_by_id", {v["voice_id"]: v for v in self.voices})
        object.__setattr__(self, "_looks_by_id", {lk["id"]: lk for lk in self.looks})
        object.__setattr__(self, "_groups_by_id", {g["id"]: g for g in self.groups})

    def voice(self, voice_id: str) -> dict[str, Any] | None:
        """The ``GET /v3/voices`` item for ``voice_id``, or ``None``."""
        return self._voices_by_id.get(voice_id)

    def voice_detail(self, voice_id: str) -> dict[str, Any]:
        """The ``GET /v3/voices/{voice_id}`` ``data`` object; raises ``KeyError`` for an unknown id."""
        return self._voice_details[voice_id]

    def voice_engine(self, voice_id: str) -> str:
        """Hidden engine tag (``starfish``/``elevenlabs``) for ``?engine=`` and TTS; ``KeyError`` if unknown."""
        return self._engines[voice_id]

    def look(self, look_id: str) -> dict[str, Any] | None:
        """The ``GET /v3/avatars/looks/{look_id}`` ``data`` object, or ``None``."""
        return self._looks_by_id.get(look_id)

    def group(self, group_id: str) -> dict[str, Any] | None:
        """The ``GET /v3/avatars/{group_id}`` ``data`` object, or ``None``."""
        return self._groups_by_id.get(group_id)

    def looks_of_group(self, group_id: str) -> list[dict[str, Any]]:
        """Looks whose ``group_id`` is ``group_id``, in catalog order (``[]`` for an unknown group)."""
        return [lk for lk in self.looks if lk["group_id"] == group_id]


def _read_gzip_json(path: Path) -> dict[str, Any]:
    with gzip.open(path, "rt", encoding="utf-8") as fh:
        return json.load(fh)


@functools.cache
def _raw_dumps() -> tuple[list[dict], list[dict], list[dict]]:
    """(voices, avatars, talking photos) exactly as in the dumps; parsed once per process."""
    voices = _read_gzip_json(VOICES_FILE)["data"]["voices"]
    avatars = _read_gzip_json(AVATARS_FILE)["data"]
    return voices, avatars["avatars"], avatars["talking_photos"]


def _dedupe_avatars(avatars: list[dict[str, Any]]) -> list[dict[str, Any]]:
    seen: set[str] = set()
    unique = []
    for raw in avatars:
        if raw["avatar_id"] not in seen:
            seen.add(raw["avatar_id"])
            unique.append(raw)
    return unique


@functools.cache
def load_sandbox_catalog(*, include_private: bool = True, include_talking_photos: bool = False) -> SandboxCatalog:
    """Build (once per process and option set) the sandbox catalog from the vendored dumps.

    ``include_private=False`` drops the account's two cloned voices and its digital-twin looks/groups;
    ``include_talking_photos=True`` appends the 5,658 talking photos as ``photo_avatar`` looks (one group
    each). Full catalog: 2,326 voices, 1,289 looks, 179 groups. Raises ``OSError``/``ValueError`` if the
    vendored files are missing or malformed.
    """
    raw_voices, raw_avatars, raw_photos = _raw_dumps()
    voices, details, engines = [], {}, {}
    for raw in raw_voices:
        voice = convert_voice(raw)
        if voice["type"] == "private" and not include_private:
            continue
        voices.append(voice)
        details[voice["voice_id"]] = voice_detail_of(voice, raw["support_interactive_avatar"])
        engines[voice["voice_id"]] = voice_engine_for(voice["voice_id"])
    looks = [convert_avatar(raw) for raw in _dedupe_avatars(raw_avatars)]
    if not include_private:
        looks = [lk for lk in looks if lk["status"] is None]
    if include_talking_photos:
        looks += [convert_talking_photo(raw) for raw in raw_photos]
    return SandboxCatalog(voices, looks, derive_groups(looks), details, engines)
