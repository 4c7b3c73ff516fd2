"""Compose reels: drafts, their scenes, validation, estimates and the HeyGen request body.

A reel is a title, output settings (mode, aspect ratio, resolution, captions, engine) and an
ordered list of scenes (avatar look + voice + script + voice settings + background colour).
Mode ``scene_based`` has exactly 3 scenes, ``studio`` 1–50; both become one
``POST /v3/videos`` of ``type: "studio"`` (:func:`build_studio_body`).

Editing rules:

- Only drafts are editable (:class:`ReelStateError` otherwise). An edit first runs a
  conditional ``UPDATE reels … WHERE id=:id AND status='draft'``, so an edit racing a
  launch either lands before it or is refused; it never changes a launched reel.
- Every change writes a :class:`~core.models.ReelEvent` (``from_status == to_status``,
  ``detail`` such as ``"edited scenes: scene 2: script"``). No-op edits write nothing.
- Values a draft can never hold (unknown mode, title over 200 characters, speed outside
  0.5–1.5, a malformed colour, control characters in a script, …) are refused with
  :class:`ReelValidationError` before anything is written. Incomplete or catalog-dependent
  problems (empty script, no voice yet, a look that left the catalog, scripts over 5,000
  characters) are allowed in a draft and reported by :func:`validate_reel`, which the
  launch runs.

Scene numbers in messages and in ``Problem.field`` (``scenes[2].script``) are 1-based, in
position order, as users see them. Stored positions are always 1..n. Functions take a
SQLAlchemy session, flush, and leave committing to the caller.
"""

from __future__ import annotations

import dataclasses
import logging
import math
import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, update
from sqlalchemy.exc import InvalidRequestError
from sqlalchemy.orm import Session

from core import pricing
from core.models import Reel, ReelEvent, Scene, utcnow

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
SCENE_FIELDS = ("avatar_id", "voice_id", "script", "speed", "pitch", "locale", "background_color")

#: Speaking-rate assumptions of :func:`estimate_script_seconds`.
WORDS_PER_MINUTE = 150
CJK_CHARS_PER_SECOND = 4.0
MIN_SCENE_SECONDS = 1.0

_COLOR_RE = re.compile(r"#[0-9A-Fa-f]{6}")
_LOCALE_RE = re.compile(r"[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})*")
_WORD_RE = re.compile(r"\w+(?:['’-]\w+)*")
# Han (incl. extensions A/B and compatibility), Hiragana, Katakana (incl. half-width): scripts written
# without spaces between words, so they are timed per character.
_CJK_RE = re.compile("[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uff66-\uff9f\U00020000-\U0002a6df]")


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
    for ids, locale and colour mean "not chosen" (stored as ``None``).
    """

    position: int
    avatar_id: str | None = None
    voice_id: str | None = None
    script: str = ""
    speed: float = 1.0
    pitch: float = 0.0
    locale: str | None = None
    background_color: str | None = None

    @classmethod
    def from_scene(cls, scene: Any) -> SceneInput:
        """Copy of a stored :class:`~core.models.Scene` (or any object with the same attributes)."""
        return cls(**{name: getattr(scene, name) for name in ("position", *SCENE_FIELDS)})


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


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _sorted_scenes(scenes: Iterable[Any]) -> list[Any]:
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


def _position_problems(scenes: Sequence[Any]) -> list[Problem]:
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


def _scene_value_problems(n: int, scene: Any) -> list[Problem]:
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
    if not _is_number(scene.speed) or not SPEED_MIN <= scene.speed <= SPEED_MAX:
        problems.append(Problem(f"{field}.speed", f"Scene {n}: speed must be between {SPEED_MIN} and {SPEED_MAX} "
                                                   f"(1.0 is normal); got {scene.speed!r}."))
    if not _is_number(scene.pitch) or not PITCH_MIN <= scene.pitch <= PITCH_MAX:
        problems.append(Problem(f"{field}.pitch", f"Scene {n}: pitch must be between −50 and +50 semitones "
                                                   f"(0 is the voice's own pitch); got {scene.pitch!r}."))
    locale = scene.locale
    if locale is not None and (not isinstance(locale, str) or len(locale) > 16 or not _LOCALE_RE.fullmatch(locale)):
        problems.append(Problem(f"{field}.locale", f"Scene {n}: the accent {locale!r} is not a locale tag such "
                                                    "as en-GB."))
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
    ``scenes``). ``index``: a :class:`core.catalog.CatalogIndex` (``look(id)``,
    ``voice(id)``, ``locales(voice_id)``). Checks the reel settings, the scene count for the
    mode, unique positions, and per scene: avatar look and voice chosen and in the catalog,
    the engine supported by the look (looks that list no engines are not checked), accent
    only for voices with accent choice and from their list, script 1–5,000 characters after
    trimming (characters = Unicode code points; emoji and right-to-left text are fine,
    control characters other than line break and tab are not), speed 0.5–1.5, pitch
    −50…+50, background ``#RRGGBB``. Problems come in scene order.
    """
    values = {name: getattr(reel, name) for name in EDITABLE_FIELDS}
    problems = settings_problems(values)
    scenes = _sorted_scenes(reel.scenes)
    problems += scene_count_problems(reel.mode, len(scenes))
    problems += _position_problems(scenes)
    for n, scene in enumerate(scenes, start=1):
        problems += _look_problems(n, scene, index, reel.engine, reel.resolution)
        problems += _voice_problems(n, scene, index)
        problems += _script_content_problems(n, scene)
        problems += _scene_value_problems(n, scene)
    return _scene_order(problems)


def _scene_order(problems: list[Problem]) -> list[Problem]:
    """Reel-level problems first, then by scene number (stable within a scene)."""

    def key(p: Problem) -> int:
        m = re.match(r"scenes\[(\d+)\]", p.field)
        return int(m.group(1)) if m else 0

    return sorted(problems, key=key)


# --------------------------------------------------------------------------------------------
# Drafts: create, edit, duplicate, delete
# --------------------------------------------------------------------------------------------


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
    problems = _position_problems(cleaned)
    if problems:
        raise ReelValidationError(problems)
    ordered = _sorted_scenes(cleaned)
    problems = scene_count_problems(mode, len(ordered))
    for n, scene in enumerate(ordered, start=1):
        problems += _scene_value_problems(n, scene)
    if problems:
        raise ReelValidationError(problems)
    return ordered


def _scene_rows(inputs: Sequence[SceneInput]) -> list[Scene]:
    return [Scene(position=n, **{name: getattr(s, name) for name in SCENE_FIELDS})
            for n, s in enumerate(inputs, start=1)]


def _event(session: Session, reel: Reel, actor: str, detail: str, from_status: str | None = None) -> None:
    to_status = reel.status or "draft"
    from_status = to_status if from_status is None else from_status
    session.add(ReelEvent(reel_id=reel.id, actor=actor or "", from_status=from_status or None,
                          to_status=to_status, detail=detail))


def create_reel(
    session: Session,
    *,
    owner: str,
    title: str = "",
    mode: str = "scene_based",
    aspect_ratio: str = "16:9",
    resolution: str = "1080p",
    captions: bool = False,
    engine: str = "avatar_iv",
    scenes: Sequence[SceneInput] | None = None,
) -> Reel:
    """Create a draft owned by ``owner`` and record a "created" event; flushes (the id is set).

    Without ``scenes`` a scene-based draft gets 3 empty scenes and a studio draft 1.

    Raises:
        ReelValidationError: a setting or scene has a value a draft can never hold, or the
            scene count does not fit the mode. Nothing is written.
    """
    settings = {"title": title, "mode": mode, "aspect_ratio": aspect_ratio, "resolution": resolution,
                "captions": captions, "engine": engine}
    problems = settings_problems(settings)
    if problems:
        raise ReelValidationError(problems)
    if scenes is None:
        scenes = _empty_scenes(SCENE_BASED_SCENES if mode == "scene_based" else 1)
    ordered = _check_scene_inputs(mode, scenes)
    reel = Reel(owner=owner, status="draft", attempt=0, **settings)
    reel.scenes = _scene_rows(ordered)
    session.add(reel)
    session.flush()
    _event(session, reel, owner, "created", from_status="")
    session.flush()
    return reel


def _editable(session: Session, reel_id: int) -> Reel:
    """Load a reel and make sure it is a draft (before any check or write)."""
    reel = get_reel(session, reel_id)
    if reel.status != "draft":
        raise _not_editable(reel)
    return reel


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


def _claim_draft(session: Session, reel: Reel) -> None:
    """``UPDATE reels SET updated_at=now WHERE id=:id AND status='draft'``: the edit's first write.

    Holds the row (PostgreSQL) or the database write lock (SQLite) until commit, so a launch
    cannot slip in between this check and the edit.

    Raises:
        ReelStateError: the reel stopped being a draft since it was loaded.
    """
    result = session.execute(
        update(Reel).where(Reel.id == reel.id, Reel.status == "draft").values(updated_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        _reload(session, reel)
        raise _not_editable(reel)


def update_reel(session: Session, reel_id: int, *, actor: str = "", **fields: Any) -> Reel:
    """Change reel settings of a draft: any of ``title``, ``mode``, ``aspect_ratio``,
    ``resolution``, ``captions``, ``engine``. Records "edited title, engine"-style events.

    Switching to ``scene_based`` pads a reel with fewer than 3 scenes with empty ones and is
    refused for more than 3.

    Raises:
        TypeError: a field that is not editable.
        ReelNotFoundError: no such reel.
        ReelStateError: the reel is not a draft.
        ReelValidationError: a value a draft can never hold; nothing is written.
    """
    unknown = sorted(set(fields) - set(EDITABLE_FIELDS))
    if unknown:
        raise TypeError(f"update_reel() cannot change {', '.join(unknown)}; editable: {', '.join(EDITABLE_FIELDS)}.")
    reel = _editable(session, reel_id)
    changed = {name: value for name, value in fields.items() if getattr(reel, name) != value
               or type(getattr(reel, name)) is not type(value)}
    problems = settings_problems(changed)
    if not problems and changed.get("mode") == "scene_based" and len(reel.scenes) > SCENE_BASED_SCENES:
        problems = scene_count_problems("scene_based", len(reel.scenes))
    if problems:
        raise ReelValidationError(problems)
    if not changed:
        return reel
    _claim_draft(session, reel)
    for name, value in changed.items():
        setattr(reel, name, value)
    if reel.mode == "scene_based" and len(reel.scenes) < SCENE_BASED_SCENES:
        current = [SceneInput.from_scene(s) for s in _sorted_scenes(reel.scenes)]
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


def _edit_scenes(session: Session, reel_id: int, make: Any, actor: str, detail: str | None = None) -> Reel:
    """Shared path of the scene edits: ``make(current_inputs) -> new_inputs``; check, claim, store, record."""
    reel = _editable(session, reel_id)
    current = [SceneInput.from_scene(s) for s in _sorted_scenes(reel.scenes)]
    for n, scene in enumerate(current, start=1):
        scene.position = n
    ordered = _check_scene_inputs(reel.mode, make([dataclasses.replace(s) for s in current]))
    summary = _scenes_detail(current, ordered)
    if not summary:
        return reel
    _claim_draft(session, reel)
    _replace_scenes(session, reel, ordered)
    _event(session, reel, actor, detail or f"edited scenes: {summary}")
    session.flush()
    return reel


def set_scenes(session: Session, reel_id: int, scenes: Sequence[SceneInput], *, actor: str = "") -> Reel:
    """Replace the scenes of a draft with ``scenes`` (ordered by their ``position``; stored as 1..n).

    Records ``"edited scenes: scene 2: script"``; an identical list writes nothing.

    Raises:
        ReelNotFoundError: no such reel.
        ReelStateError: the reel is not a draft.
        ReelValidationError: wrong count for the mode (scene_based 3, studio 1–50), duplicate
            positions, or values a draft can never hold; nothing is written.
    """
    return _edit_scenes(session, reel_id, lambda _current: list(scenes), actor)


def _scene_number_problem(number: Any, count: int, field: str = "scenes") -> ReelValidationError:
    return ReelValidationError([Problem(field, f"Scene {number} does not exist; this reel has {count} scenes.")])


def add_scene(session: Session, reel_id: int, scene: SceneInput | None = None, *, actor: str = "") -> Reel:
    """Append a scene (empty by default) to a studio draft; records "added scene N".

    Raises:
        ReelNotFoundError, ReelStateError: as :func:`set_scenes`.
        ReelValidationError: the reel would have too many scenes (scene_based 3, studio 50).
    """

    def make(current: list[SceneInput]) -> list[SceneInput]:
        new = dataclasses.replace(scene) if scene else SceneInput(position=0)
        new.position = len(current) + 1
        return [*current, new]

    reel = _editable(session, reel_id)
    return _edit_scenes(session, reel_id, make, actor, f"added scene {len(reel.scenes) + 1}")


def remove_scene(session: Session, reel_id: int, number: int, *, actor: str = "") -> Reel:
    """Remove scene ``number`` (1-based) from a studio draft; records "removed scene N".

    Raises:
        ReelNotFoundError, ReelStateError: as :func:`set_scenes`.
        ReelValidationError: no such scene, or too few would remain (scene_based 3, studio 1).
    """

    def make(current: list[SceneInput]) -> list[SceneInput]:
        if not isinstance(number, int) or not 1 <= number <= len(current):
            raise _scene_number_problem(number, len(current))
        return [s for n, s in enumerate(current, start=1) if n != number]

    return _edit_scenes(session, reel_id, make, actor, f"removed scene {number}")


def move_scene(session: Session, reel_id: int, number: int, to_number: int, *, actor: str = "") -> Reel:
    """Move scene ``number`` to place ``to_number`` (both 1-based); records "moved scene N to M".

    Raises:
        ReelNotFoundError, ReelStateError: as :func:`set_scenes`.
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

    return _edit_scenes(session, reel_id, make, actor, f"moved scene {number} to {to_number}")


def duplicate_reel(session: Session, reel_id: int, owner: str) -> Reel:
    """Copy any reel (whatever its status) as a new draft owned by ``owner``, titled "<title> (copy)".

    Settings and scenes are copied; status, attempts, video and history are not. The copy's
    first event says which reel it came from. Flushes.

    Raises:
        ReelNotFoundError: no such reel.
    """
    source = get_reel(session, reel_id)
    suffix = " (copy)"
    title = (source.title or "").strip() or "Untitled reel"
    title = title[: TITLE_MAX_CHARS - len(suffix)] + suffix
    scenes = [SceneInput.from_scene(s) for s in _sorted_scenes(source.scenes)]
    reel = Reel(owner=owner, status="draft", attempt=0, title=title, mode=source.mode,
                aspect_ratio=source.aspect_ratio, resolution=source.resolution, captions=source.captions,
                engine=source.engine)
    reel.scenes = _scene_rows(scenes)
    session.add(reel)
    session.flush()
    _event(session, reel, owner, f"created as a copy of reel {source.id}", from_status="")
    session.flush()
    return reel


def delete_reel(session: Session, reel_id: int, *, actor: str = "") -> None:
    """Delete a draft, failed, cancelled or completed reel with its scenes, attempts and events.

    The video at HeyGen (if any) is not touched. Conditional ``DELETE … WHERE status IN
    (deletable)``, so a reel launched meanwhile is not deleted.

    Raises:
        ReelNotFoundError: no such reel.
        ReelStateError: the reel is queued or being generated; cancel it first.
    """
    reel = get_reel(session, reel_id)
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
    log.info("reel %s deleted by %s", reel_id, actor or "unknown")


# --------------------------------------------------------------------------------------------
# Estimates and the HeyGen request
# --------------------------------------------------------------------------------------------


def estimate_script_seconds(script: str, speed: float = 1.0) -> float:
    """Expected speech length of ``script`` in seconds.

    150 words per minute for text written with spaces (words = runs of letters/digits,
    so emoji and punctuation add nothing); Chinese and Japanese characters (Han, kana),
    which are written without spaces, at 4 characters per second. Divided by ``speed``
    (0.5–1.5; anything else counts as 1.0). At least 1 s for a non-empty script; 0 for an
    empty one.
    """
    text = (script or "").strip()
    if not text:
        return 0.0
    cjk = len(_CJK_RE.findall(text))
    words = len(_WORD_RE.findall(_CJK_RE.sub(" ", text)))
    seconds = words * 60.0 / WORDS_PER_MINUTE + cjk / CJK_CHARS_PER_SECOND
    if not _is_number(speed) or not SPEED_MIN <= speed <= SPEED_MAX:
        speed = 1.0
    return max(MIN_SCENE_SECONDS, seconds / speed)


def scene_price_per_second(reel: Any, index: Any, avatar_id: str | None) -> float:
    """USD per second of a scene of ``reel`` showing look ``avatar_id``: the reel's engine and
    resolution and the look's avatar type; unknown looks price as studio avatars (the highest rate).

    Raises:
        ValueError: the reel's engine or resolution has no price.
    """
    look = index.look(avatar_id) if avatar_id else None
    kind = getattr(look, "avatar_type", None)
    kind = kind if kind in pricing.AVATAR_TYPES else "studio_avatar"
    return pricing.price_per_second(reel.engine, kind, reel.resolution)


def estimate_reel(reel: Any, index: Any, speech_durations: dict[int, float] | None = None) -> Estimate:
    """Expected duration (seconds) and cost (USD) of ``reel``.

    Each scene lasts its measured speech-preview length when ``speech_durations`` has an
    entry (seconds, keyed by scene ``position``; the preview is made at the scene's speed),
    else :func:`estimate_script_seconds`. Cost: each scene at the rate of the reel's engine,
    its look's avatar type and the reel's resolution (:mod:`core.pricing`), scaled so the
    total is billed in whole seconds (rounded up).

    Raises:
        ValueError: the reel's engine or resolution has no price.
    """
    speech_durations = speech_durations or {}
    durations, rates = [], []
    for scene in _sorted_scenes(reel.scenes):
        measured = speech_durations.get(scene.position)
        if _is_number(measured) and measured > 0:
            durations.append(float(measured))
        else:
            durations.append(estimate_script_seconds(scene.script, scene.speed))
        rates.append(scene_price_per_second(reel, index, scene.avatar_id))
    total = sum(durations)
    if total <= 0:
        return Estimate(0.0, 0.0, durations)
    scale = pricing.billed_seconds(total) / total
    cost = sum(rate * d for rate, d in zip(rates, durations, strict=True)) * scale
    return Estimate(total, cost, durations)


def _scene_body(scene: Any, engine: str) -> dict[str, Any]:
    voice_settings: dict[str, Any] = {"speed": float(scene.speed), "pitch": float(scene.pitch)}
    if scene.locale:
        voice_settings["locale"] = scene.locale
    source: dict[str, Any] = {
        "type": "avatar",
        "avatar_id": scene.avatar_id,
        "script": scene.script.strip(),
        "voice_id": scene.voice_id,
        "voice_settings": voice_settings,
    }
    if scene.background_color:
        source["background"] = {"type": "color", "color": scene.background_color}
    source["engine"] = {"type": engine}
    return {"type": "avatar_video", "input": source}


def build_studio_body(
    reel: Any, index: Any, *, callback_id: str | None = None, callback_url: str | None = None
) -> dict[str, Any]:
    """The ``POST /v3/videos`` body (``type: "studio"``) for ``reel``.

    Shape: ``{"type": "studio", "title"?, "resolution", "aspect_ratio", "caption"?: {"file_format":
    "srt"}, "callback_id"?, "callback_url"?, "scenes": [{"type": "avatar_video", "input": {"type":
    "avatar", "avatar_id", "script" (trimmed), "voice_id", "voice_settings": {"speed", "pitch",
    "locale"?}, "background"?: {"type": "color", "color"}, "engine": {"type"}}}]}``, scenes in
    position order. The reel is checked with :func:`validate_reel` against ``index`` first, so
    a body that HeyGen would reject is never built.

    Raises:
        ReelValidationError: :func:`validate_reel` found problems (all are attached).
    """
    problems = validate_reel(reel, index)
    if problems:
        raise ReelValidationError(problems)
    body: dict[str, Any] = {"type": "studio"}
    if (reel.title or "").strip():
        body["title"] = reel.title.strip()
    body["resolution"] = reel.resolution
    body["aspect_ratio"] = reel.aspect_ratio
    if reel.captions:
        body["caption"] = {"file_format": "srt"}
    if callback_id:
        body["callback_id"] = callback_id
    if callback_url:
        body["callback_url"] = callback_url
    body["scenes"] = [_scene_body(s, reel.engine) for s in _sorted_scenes(reel.scenes)]
    return body
