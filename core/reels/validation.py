"""What a reel may hold and what it needs before launch: limits, errors, value types and rules.

- Values a draft can never hold (unknown mode, title over 200 characters, speed outside
  0.5–1.5, a malformed colour, control characters in a script, …) are refused with
  :class:`ReelValidationError` before anything is written. Incomplete or catalog-dependent
  problems (empty script, no voice yet, a look that left the catalog, scripts over 5,000
  characters) are allowed in a draft and reported by :func:`validate_reel`, which the
  launch runs.

Scene numbers in messages and in ``Problem.field`` (``scenes[2].script``) are 1-based, in
position order, as users see them.
"""

from __future__ import annotations

import logging
import math
import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from core.reels import pricing

log = logging.getLogger(__name__)

MODES = ("scene_based", "studio")
ASPECT_RATIOS = ("16:9", "9:16", "4:5", "5:4", "1:1", "auto")
RESOLUTIONS = pricing.RESOLUTIONS
ENGINES = pricing.ENGINES
ENGINE_LABELS = {"avatar_iv": "Avatar IV", "avatar_v": "Avatar V", "avatar_iii": "Avatar III"}
SCENE_BASED_SCENES = 3
STUDIO_MAX_SCENES = 50
TITLE_MAX_CHARS = 200
SCRIPT_MAX_CHARS = 5_000
SPEED_MIN, SPEED_MAX = 0.5, 1.5
PITCH_MIN, PITCH_MAX = -50.0, 50.0
AVATAR_ID_MAX_CHARS = 200
VOICE_ID_MAX_CHARS = 64
#: Statuses from which a reel may be deleted (never while queued or at HeyGen).
DELETABLE_STATUSES = ("draft", "failed", "cancelled", "completed")
#: Reel fields :func:`update_reel` may change.
EDITABLE_FIELDS = ("title", "mode", "aspect_ratio", "resolution", "captions", "engine")
SCENE_FIELDS = ("avatar_id", "voice_id", "script", "speed", "pitch", "locale", "background_color", "audio_asset_ref")
#: Length bounds of a scene's own recording, in seconds (HeyGen: audio input up to 10 minutes).
SCENE_AUDIO_MIN_S, SCENE_AUDIO_MAX_S = 1.0, 600.0

#: Speaking-rate assumptions of :func:`estimate_script_seconds`.
WORDS_PER_MINUTE = 150
CJK_CHARS_PER_SECOND = 4.0
MIN_SCENE_SECONDS = 1.0

_COLOR_RE = re.compile(r"#[0-9A-Fa-f]{6}")
_LOCALE_RE = re.compile(r"[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})*")
WORD_RE = re.compile(r"\w+(?:['’-]\w+)*")
# Han (incl. extensions A/B and compatibility), Hiragana, Katakana (incl. half-width): scripts written
# without spaces between words, so they are timed per character.
CJK_RE = re.compile("[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uff66-\uff9f\U00020000-\U0002a6df]")


# --------------------------------------------------------------------------------------------
# Errors and value types
# --------------------------------------------------------------------------------------------


class ReelError(Exception):
    """Base of the errors below; ``str(error)`` is one sentence for the user."""


class ReelNotFoundError(ReelError, LookupError):
    """No reel with this id."""


class ReelStateError(ReelError):
    """The reel's status does not allow the operation (editing a launched reel, deleting an active one)."""


class ReelValidationError(ReelError, ValueError):
    """The requested change would store values a draft can never hold; nothing was written.

    ``problems`` lists every :class:`Problem` found.
    """

    def __init__(self, problems: Sequence[Problem]) -> None:
        self.problems = list(problems)
        super().__init__(" ".join(p.message for p in self.problems))


@dataclass(frozen=True)
class Problem:
    """One validation finding: ``field`` (``"title"``, ``"scenes"``, ``"scenes[2].script"``, …; scene
    numbers 1-based) and a specific ``message`` that names the scene and says how to fix it."""

    field: str
    message: str


@dataclass
class SceneInput:
    """A scene as the composer submits it.

    ``position`` orders scenes (unique integers; stored as 1..n). ``script`` up to 5,000
    characters; ``speed`` 0.5–1.5; ``pitch`` −50…+50 semitones; ``locale`` a BCP-47 tag
    (``en-GB``) for voices with accent choice; ``background_color`` ``#RRGGBB``. Empty strings
    for ids, locale and colour mean "not chosen" (stored as ``None``). ``audio_asset_ref``: the id
    of an own recording (:class:`~core.models.MediaAsset`) the scene speaks instead of the script
    and voice; the script is then an optional caption or note.
    """

    position: int
    avatar_id: str | None = None
    voice_id: str | None = None
    script: str = ""
    speed: float = 1.0
    pitch: float = 0.0
    locale: str | None = None
    background_color: str | None = None
    audio_asset_ref: int | None = None

    #: The scene's identity (:attr:`core.models.Scene.uid`); ``None`` takes the uid of the scene now at
    #: the same place, or a new one.
    uid: str | None = None

    @classmethod
    def from_scene(cls, scene: Any) -> SceneInput:
        """Copy of a stored :class:`~core.models.Scene` (or any object with the same attributes)."""
        return cls(**{name: getattr(scene, name) for name in ("position", *SCENE_FIELDS)},
                   uid=getattr(scene, "uid", None))


@dataclass(frozen=True)
class Estimate:
    """Expected output of a reel: ``duration_s`` seconds in total, ``cost_usd`` USD, and
    ``scene_durations`` seconds per scene in scene order."""

    duration_s: float
    cost_usd: float
    scene_durations: list[float]

    @property
    def scenes(self) -> list[float]:
        """Alias of ``scene_durations``."""
        return self.scene_durations


# --------------------------------------------------------------------------------------------
# Validation rules (shared by the write path and validate_reel)
# --------------------------------------------------------------------------------------------


def is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def sorted_scenes(scenes: Iterable[Any]) -> list[Any]:
    return sorted(scenes, key=lambda s: (not isinstance(s.position, int), s.position if isinstance(s.position, int) else 0))


def _one_of(field: str, label: str, value: Any, allowed: Sequence[str]) -> list[Problem]:
    if value in allowed:
        return []
    return [Problem(field, f"{label} must be one of {', '.join(allowed)}; got {value!r}.")]


def settings_problems(values: dict[str, Any]) -> list[Problem]:
    """Problems of the reel-level fields in ``values`` (any of :data:`EDITABLE_FIELDS`)."""
    problems: list[Problem] = []
    if "title" in values:
        title = values["title"]
        if not isinstance(title, str):
            problems.append(Problem("title", "The title must be text."))
        elif len(title) > TITLE_MAX_CHARS:
            problems.append(Problem("title", f"The title is {len(title):,} characters long; the limit is "
                                             f"{TITLE_MAX_CHARS} — shorten it by {len(title) - TITLE_MAX_CHARS:,}."))
    if "mode" in values:
        problems += _one_of("mode", "Mode", values["mode"], MODES)
    if "aspect_ratio" in values:
        problems += _one_of("aspect_ratio", "Aspect ratio", values["aspect_ratio"], ASPECT_RATIOS)
    if "resolution" in values:
        problems += _one_of("resolution", "Resolution", values["resolution"], RESOLUTIONS)
    if "engine" in values:
        problems += _one_of("engine", "Engine", values["engine"], ENGINES)
    if "captions" in values and not isinstance(values["captions"], bool):
        problems.append(Problem("captions", "Captions must be switched on or off (true or false)."))
    return problems


def scene_count_problems(mode: str, count: int) -> list[Problem]:
    """Problems with the number of scenes for ``mode``: scene_based exactly 3, studio 1–50."""
    if mode == "scene_based" and count != SCENE_BASED_SCENES:
        return [Problem("scenes", f"A scene-based reel has exactly {SCENE_BASED_SCENES} scenes; this one has "
                                  f"{count}. Switch to studio mode for a different number of scenes.")]
    if mode == "studio" and count < 1:
        return [Problem("scenes", "A studio reel needs at least 1 scene — add a scene.")]
    if mode == "studio" and count > STUDIO_MAX_SCENES:
        return [Problem("scenes", f"A studio reel can have at most {STUDIO_MAX_SCENES} scenes (HeyGen's limit); "
                                  f"this one has {count} — remove {count - STUDIO_MAX_SCENES}.")]
    return []


def _control_character(script: str) -> tuple[int, str] | None:
    """(1-based character number, the character) of the first control character other than \\n and \\t."""
    for i, ch in enumerate(script, start=1):
        if ch not in "\n\t" and unicodedata.category(ch) == "Cc":
            return i, ch
    return None


def position_problems(scenes: Sequence[Any]) -> list[Problem]:
    problems, seen = [], set()
    for n, scene in enumerate(scenes, start=1):
        pos = scene.position
        if not isinstance(pos, int) or isinstance(pos, bool):
            problems.append(Problem(f"scenes[{n}].position", f"Scene {n}: the position must be a whole number."))
        elif pos in seen:
            problems.append(Problem(f"scenes[{n}].position",
                                    f"Scene {n}: position {pos} is already used by another scene; "
                                    "every scene needs its own position."))
        seen.add(pos)
    return problems


def scene_value_problems(n: int, scene: Any) -> list[Problem]:
    """Problems a stored draft scene may never have (types, ranges, formats, control characters)."""
    problems: list[Problem] = []
    field = f"scenes[{n}]"
    for name, limit in (("avatar_id", AVATAR_ID_MAX_CHARS), ("voice_id", VOICE_ID_MAX_CHARS)):
        value = getattr(scene, name)
        if value is not None and (not isinstance(value, str) or len(value) > limit):
            what = "avatar look" if name == "avatar_id" else "voice"
            problems.append(Problem(f"{field}.{name}", f"Scene {n}: the {what} id must be text of at most "
                                                        f"{limit} characters."))
    script = scene.script
    if not isinstance(script, str):
        problems.append(Problem(f"{field}.script", f"Scene {n}: the script must be text."))
    elif found := _control_character(script):
        pos, ch = found
        problems.append(Problem(f"{field}.script",
                                f"Scene {n}: the script contains an invisible control character "
                                f"(U+{ord(ch):04X}) at character {pos:,}; remove it — only line breaks and tabs "
                                "are allowed."))
    if not is_number(scene.speed) or not SPEED_MIN <= scene.speed <= SPEED_MAX:
        problems.append(Problem(f"{field}.speed", f"Scene {n}: speed must be between {SPEED_MIN} and {SPEED_MAX} "
                                                   f"(1.0 is normal); got {scene.speed!r}."))
    if not is_number(scene.pitch) or not PITCH_MIN <= scene.pitch <= PITCH_MAX:
        problems.append(Problem(f"{field}.pitch", f"Scene {n}: pitch must be between −50 and +50 semitones "
                                                   f"(0 is the voice's own pitch); got {scene.pitch!r}."))
    locale = scene.locale
    if locale is not None and (not isinstance(locale, str) or len(locale) > 16 or not _LOCALE_RE.fullmatch(locale)):
        problems.append(Problem(f"{field}.locale", f"Scene {n}: the accent {locale!r} is not a locale tag such "
                                                    "as en-GB."))
    ref = getattr(scene, "audio_asset_ref", None)
    if ref is not None and (isinstance(ref, bool) or not isinstance(ref, int)):
        problems.append(Problem(f"{field}.audio_asset_ref", f"Scene {n}: the recording reference must be a "
                                                             f"media id; got {ref!r}."))
    color = scene.background_color
    if color is not None and (not isinstance(color, str) or not _COLOR_RE.fullmatch(color)):
        problems.append(Problem(f"{field}.background_color",
                                f"Scene {n}: the background colour must be #RRGGBB (six hex digits, e.g. "
                                f"#F4F1EA); got {color!r}."))
    return problems


def _look_problems(n: int, scene: Any, index: Any, engine: str, resolution: str) -> list[Problem]:
    field = f"scenes[{n}].avatar_id"
    if not scene.avatar_id:
        return [Problem(field, f"Scene {n}: choose an avatar look.")]
    look = index.look(scene.avatar_id)
    if look is None:
        return [Problem(field, f"Scene {n}: the avatar look {scene.avatar_id!r} is not in the catalog (it may "
                               "have been removed); choose another look.")]
    name = (look.name or look.id).strip()
    engines = list(look.supported_api_engines or [])
    if engines and engine in ENGINES and engine not in engines:
        offered = ", ".join(ENGINE_LABELS.get(e, e) for e in engines)
        return [Problem(field, f"Scene {n}: the avatar look {name!r} does not support "
                               f"{ENGINE_LABELS[engine]}; choose another look or the engine {offered}.")]
    if engine == "avatar_iii" and resolution == "4k" and look.avatar_type == "photo_avatar":
        return [Problem("resolution", f"Scene {n}: photo avatars cannot render in 4K on Avatar III; choose "
                                      "1080p or another engine.")]
    return []


def _voice_problems(n: int, scene: Any, index: Any) -> list[Problem]:
    field = f"scenes[{n}]"
    if not scene.voice_id:
        return [Problem(f"{field}.voice_id", f"Scene {n}: choose a voice.")]
    voice = index.voice(scene.voice_id)
    if voice is None:
        return [Problem(f"{field}.voice_id", f"Scene {n}: the voice {scene.voice_id!r} is not in the catalog "
                                             "(it may have been removed); choose another voice.")]
    if not scene.locale:
        return []
    name = (voice.name or voice.voice_id).strip()
    if not voice.support_locale:
        return [Problem(f"{field}.locale", f"Scene {n}: the voice {name!r} has no accent choice; clear the "
                                           "accent.")]
    offered = index.locales(scene.voice_id)
    if scene.locale not in offered:
        listed = ", ".join(offered[:6]) + (f" … ({len(offered)} in all)" if len(offered) > 6 else "")
        return [Problem(f"{field}.locale", f"Scene {n}: {scene.locale!r} is not an accent of the voice "
                                           f"{name!r}; choose one of {listed}.")]
    return []


def own_audio(scene: Any) -> Any:
    """The own recording a scene speaks (a :class:`~core.models.MediaAsset`), or ``None``."""
    return getattr(scene, "audio_asset", None) if getattr(scene, "audio_asset_ref", None) else None


def _audio_problems(n: int, scene: Any) -> list[Problem]:
    """A scene that speaks an own recording: the file exists, reached HeyGen, and lasts 1 s – 10 min."""
    field = f"scenes[{n}].audio_asset_ref"
    asset = own_audio(scene)
    if asset is None:
        return [Problem(field, f"Scene {n}: its recording was deleted; add a recording again or choose a "
                               "HeyGen voice.")]
    if asset.upload_status != "uploaded" or not asset.asset_id:
        state = "failed" if asset.upload_status == "failed" else "has not finished"
        return [Problem(field, f"Scene {n}: the upload of its recording {state}; press “Retry upload” in the "
                               "scene.")]
    seconds = asset.duration_s or 0.0
    if not SCENE_AUDIO_MIN_S <= seconds <= SCENE_AUDIO_MAX_S:
        return [Problem(field, f"Scene {n}: the recording lasts {seconds:.1f} s; HeyGen takes 1 s to 10 minutes.")]
    if len(scene.script or "") > SCRIPT_MAX_CHARS:
        return [Problem(f"scenes[{n}].script", f"Scene {n}: the caption/note is longer than "
                                               f"{SCRIPT_MAX_CHARS:,} characters.")]
    return []


def _script_content_problems(n: int, scene: Any) -> list[Problem]:
    if not isinstance(scene.script, str):
        return []
    length = len(scene.script.strip())
    if length == 0:
        return [Problem(f"scenes[{n}].script", f"Scene {n}: the script is empty — write what the avatar should "
                                               "say.")]
    if length > SCRIPT_MAX_CHARS:
        return [Problem(f"scenes[{n}].script", f"Scene {n}: the script is {length:,} characters long; HeyGen's "
                                               f"limit is {SCRIPT_MAX_CHARS:,} — shorten it by "
                                               f"{length - SCRIPT_MAX_CHARS:,}.")]
    return []


def validate_reel(reel: Any, index: Any) -> list[Problem]:
    """Everything that stands between ``reel`` and a successful ``POST /v3/videos``; ``[]`` when ready.

    ``reel``: a :class:`~core.models.Reel` (or any object with the same attributes and
    ``scenes``). ``index``: a :class:`core.catalog.index.CatalogIndex` (``look(id)``,
    ``voice(id)``, ``locales(voice_id)``). Checks the reel settings, the scene count for the
    mode, unique positions, and per scene: avatar look and voice chosen and in the catalog,
    the engine supported by the look (looks that list no engines are not checked), accent
    only for voices with accent choice and from their list, script 1–5,000 characters after
    trimming (characters = Unicode code points; emoji and right-to-left text are fine,
    control characters other than line break and tab are not), speed 0.5–1.5, pitch
    −50…+50, background ``#RRGGBB``. A scene with an own recording (``audio_asset_ref``) needs
    no voice or script instead: its file must exist, have reached HeyGen and last 1 s – 10
    minutes. Problems come in scene order.
    """
    values = {name: getattr(reel, name) for name in EDITABLE_FIELDS}
    problems = settings_problems(values)
    scenes = sorted_scenes(reel.scenes)
    problems += scene_count_problems(reel.mode, len(scenes))
    problems += position_problems(scenes)
    for n, scene in enumerate(scenes, start=1):
        problems += _look_problems(n, scene, index, reel.engine, reel.resolution)
        if getattr(scene, "audio_asset_ref", None):
            problems += _audio_problems(n, scene)
        else:
            problems += _voice_problems(n, scene, index)
            problems += _script_content_problems(n, scene)
        problems += scene_value_problems(n, scene)
    return _scene_order(problems)


def _scene_order(problems: list[Problem]) -> list[Problem]:
    """Reel-level problems first, then by scene number (stable within a scene)."""

    def key(p: Problem) -> int:
        m = re.match(r"scenes\[(\d+)\]", p.field)
        return int(m.group(1)) if m else 0

    return sorted(problems, key=key)
