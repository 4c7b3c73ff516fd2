"""The ``POST /v3/videos`` body of ``type: "studio"`` for a reel: one studio video from its scenes.
"""

from __future__ import annotations

from typing import Any

from core.reels.validation import ReelValidationError, own_audio, sorted_scenes, validate_reel


def _scene_body(scene: Any, engine: str) -> dict[str, Any]:
    recording = own_audio(scene)
    source: dict[str, Any] = {"type": "avatar", "avatar_id": scene.avatar_id}
    if recording is not None:
        source["audio_asset_id"] = recording.asset_id
    else:
        voice_settings: dict[str, Any] = {"speed": float(scene.speed), "pitch": float(scene.pitch)}
        if scene.locale:
            voice_settings["locale"] = scene.locale
        source.update(script=scene.script.strip(), voice_id=scene.voice_id, voice_settings=voice_settings)
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
    position order; a scene with an own recording carries ``"audio_asset_id"`` (its HeyGen asset)
    instead of ``script``, ``voice_id`` and ``voice_settings``. The reel is checked with :func:`validate_reel` against ``index`` first, so
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
    body["scenes"] = [_scene_body(s, reel.engine) for s in sorted_scenes(reel.scenes)]
    return body
