"""Turning a ``POST /v3/videos`` body into a render plan: catalog checks, speech estimate, price.

The JSON-Schema side of validation (unknown fields, enums, lengths, 1–50 scenes) is done by
:func:`core.heygen.schemas.validate_request`; this module adds what needs the catalog: known look and
voice ids, engine ∈ the look's ``supported_api_engines``, engine-specific options, the voice's
``engine_settings`` engine and ``voice_settings.locale`` (voice must ``support_locale`` and the tag
must be in :data:`LOCALES` for the voice's language). Every problem is 400 ``invalid_parameter`` with a
dotted ``param`` such as ``scenes.1.input.voice_id``.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any

from core.catalog.normalise import LOCALES as CATALOG_LOCALES
from core.reels.pricing import SPEECH_USD_PER_SECOND, VIDEO_USD_PER_SECOND
from core.sandbox.http import ApiError, invalid

WORDS_PER_MINUTE = 150.0
#: Seconds assumed for inputs whose length the sandbox cannot know (audio_url, audio_asset_id, video clips).
UNKNOWN_MEDIA_S = 5.0
MIN_SCENE_S = 0.5
#: Longest pre-recorded audio of one input, in seconds (HeyGen: 10 minutes).
MAX_AUDIO_S = 600.0

#: Text-to-speech (Starfish) in USD per second of audio (the price table is shared with the app).
TTS_RATE_USD = SPEECH_USD_PER_SECOND

#: Locales the sandbox accepts per catalog language (docs §2.2, the same table the app offers);
#: other tags → 400 voice_settings.locale.
LOCALES: dict[str, tuple[str, ...]] = {language: tuple(tags) for language, tags in CATALOG_LOCALES.items()}
ALL_LOCALES: frozenset[str] = frozenset(tag for tags in LOCALES.values() for tag in tags)
_LANGUAGE_ALIASES = {"en": "English", "turkey": "Turkish", "bengali": "Bangla", "swahili": "Kiswahili"}
FAILED_CREDIT_CODE = "MOVIO_PAYMENT_INSUFFICIENT_CREDIT"
FAILED_CREDIT_MESSAGE = "Insufficient credit. This operation requires 'plan_credit' or 'api' credits."


def allowed_locales(language: str | None) -> frozenset[str]:
    """Locales accepted for a voice of catalog ``language`` (raw, dirty values allowed).

    Known languages map to their row of :data:`LOCALES`; ``Multilingual``, empty and ``unknown`` accept
    every tag of the table; a language outside the table accepts none.
    """
    name = (language or "").strip()
    name = _LANGUAGE_ALIASES.get(name.lower(), name)
    if name.lower() in ("", "unknown", "multilingual"):
        return ALL_LOCALES
    return frozenset(LOCALES.get(name, ()))


def speech_seconds(text: str, speed: float | None = 1.0) -> float:
    """Estimated speech length in seconds: 150 words per minute divided by ``speed`` (≥ 0.5 s)."""
    words = len((text or "").split())
    return round(max(MIN_SCENE_S, words * 60.0 / WORDS_PER_MINUTE / (speed or 1.0)), 3)


@dataclass
class PlannedScene:
    """One scene of a render plan: what is drawn, how long it lasts (s), how it is priced."""

    avatar_name: str
    script: str
    duration_s: float
    background: str | None
    engine: str
    avatar_type: str
    audio_file: str | None = None

    def as_dict(self) -> dict[str, Any]:
        """JSON-serialisable form stored with the job."""
        return asdict(self)


def price_usd(scenes: list[PlannedScene], resolution: str | None) -> float:
    """Cost in USD: per price class, ceil(seconds) × rate (docs §8; 4k uses the 4K column)."""
    column = 1 if (resolution or "").lower() == "4k" else 0
    seconds: dict[float, float] = {}
    for scene in scenes:
        by_type = VIDEO_USD_PER_SECOND.get(scene.engine, VIDEO_USD_PER_SECOND["avatar_iv"])
        rate = by_type.get(scene.avatar_type, by_type["studio_avatar"])[column]
        seconds[rate] = seconds.get(rate, 0.0) + scene.duration_s
    return round(sum(rate * math.ceil(total - 1e-9) for rate, total in seconds.items()), 4)


def plan_video(body: dict[str, Any], catalog: Any) -> list[PlannedScene]:
    """Check a schema-valid ``POST /v3/videos`` body against the catalog and return its scenes.

    Supports ``type`` ``studio``, ``avatar`` and ``image``; ``cinematic_avatar`` → 400 ``param: type``.
    Raises :class:`ApiError` (400 ``invalid_parameter``) naming the first offending param.
    """
    kind = body.get("type")
    if kind == "studio":
        return [_studio_scene(scene, f"scenes.{i}.", catalog) for i, scene in enumerate(body["scenes"])]
    if kind == "avatar":
        return [_avatar_input(body, "", catalog, studio=False)]
    if kind == "image":
        return [_image_input(body, "", catalog)]
    raise invalid("type", f"Video type '{kind}' is not available in the sandbox.")


def _studio_scene(scene: dict[str, Any], prefix: str, catalog: Any) -> PlannedScene:
    kind = scene.get("type")
    if kind == "avatar_video":
        source = scene["input"]
        inner = f"{prefix}input."
        if source.get("type") == "image":
            return _image_input(source, inner, catalog)
        return _avatar_input(source, inner, catalog, studio=True)
    if kind == "image":
        if scene.get("duration") is not None:
            return PlannedScene("Image", "", float(scene["duration"]), None, "avatar_iv", "photo_avatar")
        duration, script, audio = _audio(scene, prefix, catalog, look=None)
        return PlannedScene("Image", script, duration, None, "avatar_iv", "photo_avatar", audio)
    return PlannedScene("Video clip", "", UNKNOWN_MEDIA_S, None, "avatar_iv", "photo_avatar")


def _avatar_input(source: dict[str, Any], prefix: str, catalog: Any, *, studio: bool) -> PlannedScene:
    look_id = source.get("avatar_id")
    look = catalog.look(look_id)
    if look is None:
        raise invalid(f"{prefix}avatar_id", f"Avatar look '{look_id}' does not exist.")
    _check_ready(look, catalog.group(look.get("group_id") or ""), f"{prefix}avatar_id")
    engine = (source.get("engine") or {}).get("type") or "avatar_iv"
    supported = look.get("supported_api_engines") or []
    if engine not in supported:
        raise invalid(f"{prefix}engine.type" if source.get("engine") else f"{prefix}avatar_id",
                      f"Engine '{engine}' is not supported by avatar '{look_id}' (supported: "
                      f"{', '.join(supported) or 'none'}).")
    _engine_options(source, prefix, engine, look.get("avatar_type") or "studio_avatar")
    duration, script, audio = _audio(source, prefix, catalog, look=look)
    background = source.get("background") or {}
    colour = background.get("color") if studio else (background.get("value") if background.get("type") == "color"
                                                     else None)
    return PlannedScene(str(look.get("name") or look_id), script, duration, colour, engine,
                        look.get("avatar_type") or "studio_avatar", audio)


def _check_ready(look: dict[str, Any], group: dict[str, Any] | None, param: str) -> None:
    """A private look must have finished training and its group must not wait for consent."""
    if look.get("status") not in (None, "completed"):
        raise invalid(param, f"Avatar look '{look['id']}' is not ready (training status: {look['status']}).")
    if group is not None and group.get("status") == "pending_consent":
        raise invalid(param, f"Avatar look '{look['id']}' needs the consent of the person shown first.")


def _image_input(source: dict[str, Any], prefix: str, catalog: Any) -> PlannedScene:
    engine = (source.get("engine") or {}).get("type") or "avatar_iv"
    if engine == "avatar_iii":
        raise invalid(f"{prefix}engine.type", "avatar_iii is not available for image input.")
    _engine_options(source, prefix, engine, "photo_avatar")
    duration, script, audio = _audio(source, prefix, catalog, look=None)
    return PlannedScene("Photo avatar", script, duration, None, engine, "photo_avatar", audio)


def _engine_options(source: dict[str, Any], prefix: str, engine: str, avatar_type: str) -> None:
    if source.get("expressiveness") is not None and not (avatar_type == "photo_avatar" and engine == "avatar_iv"):
        raise invalid(f"{prefix}expressiveness", "expressiveness is only available for photo avatars on avatar_iv.")
    if source.get("motion_prompt") is not None and engine == "avatar_iii":
        raise invalid(f"{prefix}motion_prompt", "motion_prompt is not available with avatar_iii.")
    if source.get("motion_prompt") is not None and avatar_type != "photo_avatar" and engine != "avatar_v":
        raise invalid(f"{prefix}motion_prompt", "motion_prompt needs avatar_v for video avatars.")


def _asset_audio(source: dict[str, Any], prefix: str, catalog: Any) -> tuple[float, str, str | None]:
    """Duration (s) and file of an ``audio_asset_id``: the account's own, readable audio of ≤ 10 minutes."""
    param, asset_id = f"{prefix}audio_asset_id", source["audio_asset_id"]
    asset = catalog.asset(asset_id) if hasattr(catalog, "asset") else None
    if asset is None:
        raise invalid(param, f"Asset '{asset_id}' does not exist.")
    if asset["kind"] != "audio" or not asset.get("duration_s"):
        raise invalid(param, f"Asset '{asset_id}' is not a readable audio file.")
    if asset["duration_s"] > MAX_AUDIO_S:
        raise invalid(param, f"Audio asset '{asset_id}' is longer than {MAX_AUDIO_S / 60:.0f} minutes.")
    return float(asset["duration_s"]), "", asset.get("file")


def _audio(source: dict[str, Any], prefix: str, catalog: Any, *, look: dict | None
           ) -> tuple[float, str, str | None]:
    """Duration (s), script and own audio file of one speaking input; checks voice, engine_settings, locale."""
    if source.get("audio_asset_id"):
        return _asset_audio(source, prefix, catalog)
    script = source.get("script")
    if not script:
        return UNKNOWN_MEDIA_S, "", None
    voice_id = source.get("voice_id") or (look or {}).get("default_voice_id")
    if not voice_id:
        raise invalid(f"{prefix}voice_id", "voice_id is required with script (the avatar has no default voice).")
    voice = catalog.voice(voice_id)
    if voice is None:
        raise invalid(f"{prefix}voice_id", f"Voice '{voice_id}' does not exist.")
    settings = source.get("voice_settings") or {}
    engine_settings = settings.get("engine_settings") or {}
    voice_engine = catalog.voice_engine(voice_id)
    if engine_settings.get("engine_type") and engine_settings["engine_type"] != voice_engine:
        raise invalid(f"{prefix}voice_settings.engine_settings.engine_type",
                      f"Voice '{voice_id}' uses the {voice_engine} engine, not {engine_settings['engine_type']}.")
    locale = settings.get("locale")
    if locale is not None:
        if not voice.get("support_locale"):
            raise invalid(f"{prefix}voice_settings.locale", f"Voice '{voice_id}' does not support a locale.")
        if locale not in allowed_locales(voice.get("language")):
            raise invalid(f"{prefix}voice_settings.locale",
                          f"Locale '{locale}' is not available for a {str(voice.get('language')).strip()} voice.")
    return speech_seconds(script, settings.get("speed")), script, None


def ensure_funds(balance_usd: float) -> None:
    """Submit-time wallet check: a balance (USD) ≤ 0 raises :class:`ApiError` 402 ``insufficient_credit``."""
    if balance_usd <= 0:
        raise ApiError(402, "insufficient_credit", "Insufficient credit: the API wallet balance is empty.")
