"""Script drafts from a topic: the brief, its bounds, the reply's shape, estimates, and using a variation.

A *brief* (:class:`DraftBrief`) says what to write: topic, audience, tone, language, target length and
number of scenes. Each scene is sized to the target at its voice's speed with the estimate Compose uses
(150 words per minute, Chinese and Japanese 4 characters per second; :func:`scene_budgets`). A model's
reply (:mod:`core.reels.script_model` asks it) is validated into :class:`Variation` objects: 1–50 scenes, each
script 1–5,000 characters (HeyGen's limits). :func:`apply_variation` fills a draft's scenes with one;
every changed script becomes a version labelled with the topic (:mod:`core.reels.versions`).

Bounds: topic 500 characters, audience 200, tone 100, revision instruction 300, target 5 s–15 min,
1–50 scenes, at most 300 s per scene.
"""

from __future__ import annotations

import dataclasses
import math
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator
from sqlalchemy.orm import Session

from core.access.actor import Actor
from core.models import Reel
from core.reels import drafts
from core.reels.estimate import estimate_reel, estimate_script_seconds
from core.reels.validation import (
    CJK_CHARS_PER_SECOND,
    SCENE_BASED_SCENES,
    SCRIPT_MAX_CHARS,
    STUDIO_MAX_SCENES,
    TITLE_MAX_CHARS,
    WORDS_PER_MINUTE,
    Estimate,
    SceneInput,
)

TOPIC_MAX_CHARS = 500
AUDIENCE_MAX_CHARS = 200
TONE_MAX_CHARS = 100
LANGUAGE_MAX_CHARS = 50
INSTRUCTION_MAX_CHARS = 300
TARGET_MIN_S, TARGET_MAX_S = 5.0, 900.0
#: Longest scene a draft may ask for (seconds): ~750 words, well inside 5,000 characters.
SCENE_MAX_S = 300.0
VARIATIONS = 3
#: Languages written without spaces, budgeted in characters (normalised catalog names).
CHARACTER_LANGUAGES = ("Chinese", "Japanese", "Cantonese", "Mandarin")

_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


class DraftError(Exception):
    """The model could not give a usable draft; ``str(error)`` is one sentence for the user."""


class DraftInputError(DraftError, ValueError):
    """The brief itself is unusable; ``problems`` holds one sentence per problem. Nothing was sent."""

    def __init__(self, problems: Sequence[str]) -> None:
        self.problems = list(problems)
        super().__init__(" ".join(self.problems))


# --------------------------------------------------------------------------------------------
# Reply schema (validated with pydantic; a plain JSON schema goes on the wire)
# --------------------------------------------------------------------------------------------


class SceneScript(BaseModel):
    """One scene's script: 1–5,000 characters of spoken text (control characters removed)."""

    model_config = ConfigDict(extra="ignore")
    script: str = Field(min_length=1, max_length=SCRIPT_MAX_CHARS)

    @field_validator("script", mode="before")
    @classmethod
    def _clean(cls, value: Any) -> Any:
        if isinstance(value, str):
            value = _CONTROL.sub("", unicodedata.normalize("NFC", value.replace("\r\n", "\n"))).strip()
        return value


class Variation(BaseModel):
    """One variation: a short ``title`` and 1–50 scene scripts in order."""

    model_config = ConfigDict(extra="ignore")
    title: str = Field(default="", max_length=200)
    scenes: list[SceneScript] = Field(min_length=1, max_length=STUDIO_MAX_SCENES)

    @field_validator("title", mode="before")
    @classmethod
    def _short_title(cls, value: Any) -> Any:
        """Titles are cosmetic: one line, cut to 200 characters rather than refused."""
        if isinstance(value, str):
            value = " ".join(_CONTROL.sub(" ", value).split())[:200]
        return value

    @property
    def scripts(self) -> list[str]:
        """The scene scripts in order."""
        return [s.script for s in self.scenes]

    @property
    def characters(self) -> int:
        """Total script length in characters."""
        return sum(len(s) for s in self.scripts)


class DraftReply(BaseModel):
    """The reply document: ``{"variations": [{"title", "scenes": [{"script"}]}]}``."""

    model_config = ConfigDict(extra="ignore")
    variations: list[Variation] = Field(min_length=1, max_length=5)


# --------------------------------------------------------------------------------------------
# The brief
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class DraftBrief:
    """What to draft: ``topic``, ``audience``, ``tone``, ``language`` (a catalog language name such as
    ``"English"``), ``target_seconds`` (whole reel), ``scenes`` (1–50) and the scenes' voice ``speeds``
    (0.5–1.5, one per scene; missing ones count as 1.0)."""

    topic: str
    language: str = "English"
    target_seconds: float = 60.0
    scenes: int = 3
    audience: str = ""
    tone: str = ""
    speeds: tuple[float, ...] = ()

    def speed(self, n: int) -> float:
        """Speed of scene ``n`` (0-based), 1.0 when unknown or out of range."""
        value = self.speeds[n] if n < len(self.speeds) else 1.0
        return value if isinstance(value, int | float) and 0.5 <= value <= 1.5 else 1.0


def length_problem(label: str, value: str, limit: int) -> list[str]:
    if len(value) > limit:
        return [f"The {label} is {len(value):,} characters; keep it to {limit:,}."]
    return []


def brief_problems(brief: DraftBrief) -> list[str]:
    """One sentence per unusable value of ``brief`` (empty when it can be sent)."""
    problems: list[str] = []
    if not brief.topic.strip():
        problems.append("Write a topic: what the reel is about.")
    problems += length_problem("topic", brief.topic, TOPIC_MAX_CHARS)
    problems += length_problem("audience", brief.audience, AUDIENCE_MAX_CHARS)
    problems += length_problem("tone", brief.tone, TONE_MAX_CHARS)
    if not brief.language.strip():
        problems.append("Choose the language of the scripts.")
    problems += length_problem("language", brief.language, LANGUAGE_MAX_CHARS)
    target = brief.target_seconds
    if not isinstance(target, int | float) or not math.isfinite(target) or not TARGET_MIN_S <= target <= TARGET_MAX_S:
        problems.append(f"The target length must be between {TARGET_MIN_S:g} seconds and "
                        f"{TARGET_MAX_S / 60:g} minutes; {target:g} s is not.")
    if not isinstance(brief.scenes, int) or not 1 <= brief.scenes <= STUDIO_MAX_SCENES:
        problems.append(f"A reel has 1 to {STUDIO_MAX_SCENES} scenes; {brief.scenes} is not.")
    elif not problems and target / brief.scenes > SCENE_MAX_S:
        needed = math.ceil(target / SCENE_MAX_S)
        problems.append(f"{target:g} s in {brief.scenes} scenes makes scenes too long for HeyGen's "
                        f"{SCRIPT_MAX_CHARS:,} characters; use at least {needed} scenes.")
    return problems


def check_brief(brief: DraftBrief) -> None:
    """Raise :class:`DraftInputError` listing every problem of ``brief``; nothing otherwise."""
    problems = brief_problems(brief)
    if problems:
        raise DraftInputError(problems)


def budget_unit(language: str) -> str:
    """``"characters"`` for languages written without spaces (Chinese, Japanese), else ``"words"``."""
    return "characters" if any(name.lower() in language.lower() for name in CHARACTER_LANGUAGES) else "words"


def scene_budgets(brief: DraftBrief) -> list[int]:
    """Words (or characters, see :func:`budget_unit`) per scene so that the reel lasts ``target_seconds``
    by :func:`core.reels.estimate.estimate_script_seconds`: the target split evenly, times each scene's speed."""
    per_scene = brief.target_seconds / brief.scenes
    rate = CJK_CHARS_PER_SECOND if budget_unit(brief.language) == "characters" else WORDS_PER_MINUTE / 60.0
    return [max(1, round(per_scene * rate * brief.speed(n))) for n in range(brief.scenes)]


def variation_seconds(variation: Variation, brief: DraftBrief) -> list[float]:
    """Estimated speech length of each scene of ``variation`` (seconds) at the brief's speeds."""
    return [estimate_script_seconds(script, brief.speed(n)) for n, script in enumerate(variation.scripts)]


def language_warning(language: str, voices: Sequence[tuple[str, str]]) -> str | None:
    """A warning naming the voices that do not speak ``language``, or ``None``.

    ``voices`` are ``(voice name, its normalised language)`` pairs of the draft's scenes.
    """
    wanted = language.strip().lower()
    odd = list(dict.fromkeys(name for name, lang in voices if lang and lang.strip().lower() != wanted))
    if not wanted or not odd:
        return None
    names = ", ".join(odd[:-1]) + f" and {odd[-1]}" if len(odd) > 1 else odd[0]
    verb = "do" if len(odd) > 1 else "does"
    return (f"{names} {verb} not speak {language.strip()}; pick voices that do, or the scripts will be read "
            "in the wrong accent.")


# --------------------------------------------------------------------------------------------
# Using a variation in a reel
# --------------------------------------------------------------------------------------------


def draft_label(topic: str) -> str:
    """The history label of a draft applied from ``topic`` (at most 200 characters)."""
    return f"Draft from a topic: {' '.join(topic.split())}"[:200]


def _stand_in_scenes(reel: Any, variation: Variation, brief: DraftBrief) -> list[SimpleNamespace]:
    scenes = sorted(reel.scenes, key=lambda s: s.position) if reel is not None else []
    out = []
    for n, script in enumerate(variation.scripts):
        base = scenes[min(n, len(scenes) - 1)] if scenes else None
        out.append(SimpleNamespace(position=n + 1, script=script, speed=brief.speed(n),
                                   avatar_id=getattr(base, "avatar_id", None)))
    return out


def variation_estimate(reel: Any, index: Any, variation: Variation, brief: DraftBrief) -> Estimate:
    """Length (seconds) and cost (USD) of ``reel`` if ``variation`` filled its scenes: the reel's engine and
    resolution, each scene's look (extra scenes take the last one's), the brief's speeds.

    Raises:
        ValueError: the reel's engine or resolution has no price.
    """
    stand_in = SimpleNamespace(engine=reel.engine, resolution=reel.resolution,
                               scenes=_stand_in_scenes(reel, variation, brief))
    return estimate_reel(stand_in, index)


def apply_variation(session: Session, variation: Variation, brief: DraftBrief, *, actor: Actor,
                    reel_id: int | None = None, expected_version: int | None = None) -> Reel:
    """Fill the scenes of draft ``reel_id`` with ``variation``'s scripts, or make a new draft owned by
    ``actor`` from it. Each changed script becomes a version labelled with the topic (source ``draft``).

    Existing scenes keep their look, voice and settings; extra scenes copy the last scene's; scenes beyond
    the variation's count are removed. A scene-based reel given other than 3 scenes becomes a studio reel;
    an untitled reel takes the variation's title. ``expected_version``: the reel version the editor
    showed (as :func:`core.reels.drafts.set_scenes`). Flushes; the caller commits.

    Raises:
        core.access.permissions.PermissionDenied: ``actor`` may not create or edit this reel.
        core.access.conflicts.EditConflict: the reel changed since ``expected_version``; nothing is written.
        core.reels.validation.ReelNotFoundError, core.reels.validation.ReelStateError: no such reel, or not a draft.
        core.reels.validation.ReelValidationError: the scripts cannot be stored (nothing is written).
    """
    scripts, label = variation.scripts, draft_label(brief.topic)
    title = variation.title.strip()[: TITLE_MAX_CHARS]
    if reel_id is None:
        mode = "scene_based" if len(scripts) == SCENE_BASED_SCENES else "studio"
        inputs = [SceneInput(position=n, script=s, speed=brief.speed(n - 1))
                  for n, s in enumerate(scripts, start=1)]
        return drafts.create_reel(session, actor=actor, title=title, mode=mode, scenes=inputs,
                                 version_source="draft", version_label=label)
    reel = drafts.get_reel(session, reel_id)
    changes: dict[str, Any] = {}
    if reel.mode == "scene_based" and len(scripts) != SCENE_BASED_SCENES:
        changes["mode"] = "studio"
    if not (reel.title or "").strip() and title:
        changes["title"] = title
    if changes:
        updated = drafts.update_reel(session, reel_id, actor=actor, expected_version=expected_version, **changes)
        expected_version = updated.version if expected_version is not None else None
    current = [SceneInput.from_scene(s) for s in sorted(reel.scenes, key=lambda s: s.position)]
    inputs = []
    for n, script in enumerate(scripts, start=1):
        if n <= len(current):
            base = current[n - 1]
        else:
            base = dataclasses.replace(current[-1], uid=None) if current else SceneInput(position=n)
        inputs.append(dataclasses.replace(base, position=n, script=script))
    return drafts.set_scenes(session, reel_id, inputs, actor=actor, expected_version=expected_version,
                             version_source="draft", version_label=label)
