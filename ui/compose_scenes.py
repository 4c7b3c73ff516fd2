"""Compose's scene editors: look, voice, script, own audio, voice settings, accent, background, listen."""

from __future__ import annotations

from contextlib import closing
from typing import Any

import streamlit as st

from core.catalog.normalise import locale_label
from core.models import Reel
from core.reels import estimate as estimates
from core.reels import speech, validation
from core.reels.pricing import SPEECH_USD_PER_SECOND
from ui import own_media, script_drafts
from ui.compose_state import (
    DEFAULT_BACKGROUND,
    Env,
    field_messages,
    look_name,
    on_edit,
    on_listen,
    on_look,
    on_structure,
    on_voice,
    persist,
    reseed,
    seed_widget,
    shown_versions,
    skey,
    voice_name,
)
from ui.pickers import look_picker, voice_picker
from ui.text import plain

# --------------------------------------------------------------------------------------------
# Scenes
# --------------------------------------------------------------------------------------------


def scenes_section(env: Env, reel: Reel, editable: bool, by_field: dict[str, list[str]],
            measured: dict[int, float], problems: list[validation.Problem]) -> None:
    scenes = sorted(reel.scenes, key=lambda s: s.position)
    studio = reel.mode == "studio"
    st.markdown(f"#### Scenes ({len(scenes)})")
    versions = script_drafts.history_counts(env, reel.id)
    for n, scene in enumerate(scenes, start=1):
        field_prefix = f"scenes[{n}]"
        scene_problems = {f: m for f, m in by_field.items() if f.startswith(field_prefix)}
        label = (f"Scene {n} · {plain(look_name(env, scene.avatar_id)) or 'no look yet'} · "
                 f"{'own audio' if scene.audio_asset_ref else plain(voice_name(env, scene.voice_id)) or 'no voice yet'}")
        to_do = any(p.field.startswith(field_prefix) for p in problems)
        icon = (":material/error:" if scene_problems else
                ":material/radio_button_unchecked:" if to_do else ":material/check_circle:")
        with st.expander(label, expanded=n <= 3 or bool(scene_problems), icon=icon):
            _scene_editor(env, reel, scene, n, editable, scene_problems, measured, versions.get(scene.uid, 0))
            if studio and editable:
                _scene_moves(env, reel.id, n, len(scenes))
    if studio and editable:
        st.button("Add scene", icon=":material/add:", key=f"c_add_{reel.id}",
                  disabled=len(scenes) >= validation.STUDIO_MAX_SCENES, on_click=on_structure,
                  args=(env, reel.id, "add"))


def _scene_moves(env: Env, rid: int, n: int, count: int) -> None:
    row = st.container(horizontal=True)
    row.button("Move up", icon=":material/arrow_upward:", key=skey(rid, n, "up"), disabled=n == 1,
               on_click=on_structure, args=(env, rid, "move", n, n - 1))
    row.button("Move down", icon=":material/arrow_downward:", key=skey(rid, n, "down"), disabled=n == count,
               on_click=on_structure, args=(env, rid, "move", n, n + 1))
    row.button("Remove", icon=":material/delete:", key=skey(rid, n, "remove"), disabled=count == 1,
               on_click=on_structure, args=(env, rid, "remove", n))


def _scene_editor(env: Env, reel: Reel, scene: Any, n: int, editable: bool,
                  problems: dict[str, list[str]], measured: dict[int, float], versions: int = 0) -> None:
    rid = reel.id
    pick, write = st.columns([1, 1], gap="medium")
    with pick:
        seed_widget(skey(rid, n, "look"), scene.avatar_id)
        look_picker(env.looks, env.index, key=skey(rid, n, "look"), disabled=not editable,
                    on_change=on_look, args=(env, rid, n))
        field_messages(problems.get(f"scenes[{n}].avatar_id"), in_scene=True)
        own = own_media.voice_source(rid, n, scene, editable, on_edit, (env, rid))
        if own:
            own_media.scene_audio(media_env(env), rid, n, scene, editable, lambda: persist(env, rid))
            field_messages(problems.get(f"scenes[{n}].audio_asset_ref"), in_scene=True)
        else:
            seed_widget(skey(rid, n, "voice"), scene.voice_id)
            voice_picker(env.voices, env.index, key=skey(rid, n, "voice"), disabled=not editable,
                         on_change=on_voice, args=(env, rid, n))
            field_messages(problems.get(f"scenes[{n}].voice_id"), in_scene=True)
    with write:
        seed_widget(skey(rid, n, "script"), scene.script)
        script = st.text_area(own_media.SCRIPT_LABEL if own else "Script", key=skey(rid, n, "script"), height=170,
                              disabled=not editable, on_change=on_edit, args=(env, rid),
                              placeholder=own_media.SCRIPT_PLACEHOLDER if own else "What the avatar says in this scene…")
        if own:
            st.caption(own_media.SCRIPT_HELP)
        else:
            _script_caption(script or "", scene, measured.get(scene.position))
        field_messages(problems.get(f"scenes[{n}].script"), in_scene=True)
        script_drafts.scene_history(env, reel, scene, editable, versions, expected_version=shown_versions().get(rid),
                                    on_restored=reseed)
        if not own:
            _voice_settings(env, rid, n, scene, editable, problems)
        _background(env, rid, n, scene, editable)
        field_messages(problems.get(f"scenes[{n}].background_color"), in_scene=True)
        if not own:
            _listen(env, rid, n, scene, editable)
        for field, messages in problems.items():
            if field.split(".")[-1] in ("position",):
                field_messages(messages, in_scene=True)


def _voice_settings(env: Env, rid: int, n: int, scene: Any, editable: bool, problems: dict[str, list[str]]) -> None:
    """Speed, pitch and accent of a scene read by a HeyGen voice."""
    speed_col, pitch_col = st.columns(2)
    seed_widget(skey(rid, n, "speed"), float(scene.speed))
    speed_col.slider("Speed", validation.SPEED_MIN, validation.SPEED_MAX, step=0.05, key=skey(rid, n, "speed"),
                     format="%.2f×", disabled=not editable, on_change=on_edit, args=(env, rid))
    seed_widget(skey(rid, n, "pitch"), float(scene.pitch))
    pitch_col.slider("Pitch", validation.PITCH_MIN, validation.PITCH_MAX, step=1.0, key=skey(rid, n, "pitch"),
                     format="%+.0f", disabled=not editable, on_change=on_edit, args=(env, rid),
                     help="Semitones up or down from the voice's own pitch.")
    field_messages(problems.get(f"scenes[{n}].speed"), in_scene=True)
    field_messages(problems.get(f"scenes[{n}].pitch"), in_scene=True)
    _accent(env, rid, n, scene, editable)
    field_messages(problems.get(f"scenes[{n}].locale"), in_scene=True)


def media_env(env: Env) -> own_media.MediaEnv:
    return own_media.MediaEnv(env.factory, env.client, env.data_dir, None, env.actor)


def _script_caption(script: str, scene: Any, measured: float | None) -> None:
    chars = len(script.strip())
    over = chars > validation.SCRIPT_MAX_CHARS
    count = f"{chars:,} / {validation.SCRIPT_MAX_CHARS:,} characters"
    count = f":red[{count}]" if over else count
    if measured is not None:
        timing = f"{measured:.1f} s measured from the preview"
    elif chars:
        timing = f"about {estimates.estimate_script_seconds(script, scene.speed):.0f} s of speech"
    else:
        timing = "empty"
    st.caption(f"{count} · {timing}")


def _accent(env: Env, rid: int, n: int, scene: Any, editable: bool) -> None:
    key = skey(rid, n, "locale")
    voice_id = st.session_state.get(skey(rid, n, "voice"), scene.voice_id)
    locales = env.index.locales(voice_id)
    voice = env.index.voice(voice_id)
    seed_widget(key, scene.locale or "")
    if st.session_state.get(key) not in ("", *locales):
        st.session_state[key] = ""
    if voice is not None and not locales:
        reason = ("This voice speaks with its own native accent; HeyGen offers accent choice only for voices "
                  "with locale support.")
    elif voice is None:
        reason = "Choose a voice first."
    else:
        reason = None
    st.selectbox("Accent", ["", *locales], key=key, disabled=not editable or not locales,
                 format_func=lambda v: f"{locale_label(v)} · {v}" if v else "The voice's own accent",
                 on_change=on_edit, args=(env, rid), help=reason or "The locale the voice speaks with.")
    if reason and voice is not None:
        st.caption(reason)


def _background(env: Env, rid: int, n: int, scene: Any, editable: bool) -> None:
    on_key, color_key = skey(rid, n, "bg_on"), skey(rid, n, "bg")
    seed_widget(on_key, scene.background_color is not None)
    seed_widget(color_key, scene.background_color or DEFAULT_BACKGROUND)
    with st.container(horizontal=True, vertical_alignment="center"):
        st.toggle("Colour background", key=on_key, disabled=not editable, on_change=on_edit, args=(env, rid),
                  help="Off: the look's own background.")
        st.color_picker("Background colour", key=color_key, disabled=not editable or not st.session_state[on_key],
                        on_change=on_edit, args=(env, rid), label_visibility="collapsed")


def _listen(env: Env, rid: int, n: int, scene: Any, editable: bool) -> None:
    """The scene's speech preview: cached audio when there is one, else a Listen button (Starfish only)."""
    voice_id, script = scene.voice_id, (scene.script or "").strip()
    sample, audio_url = None, None
    if voice_id and script:
        with closing(env.factory()) as s:
            sample = speech.find_speech_sample(s, voice_id, script, speed=scene.speed, locale=scene.locale)
            audio_url = speech.audio_data_url(s, sample) if sample is not None else None
    error = st.session_state.get("c_listen_errors", {}).get((rid, n))
    if sample is not None and audio_url is not None:
        st.audio(audio_url)
        st.caption(f"Preview of this scene as written: {sample.duration_s:.1f} s (used in the estimate).")
        return
    if not voice_id:
        reason = "Choose a voice to listen to this scene."
    elif not speech.can_sample(voice_id):
        reason = speech.NOT_STARFISH_REASON
    elif not script:
        reason = "Write the script to listen to this scene."
    elif len(script) > speech.MAX_TEXT_CHARS:
        reason = f"Shorten the script to {speech.MAX_TEXT_CHARS:,} characters to listen to it."
    else:
        reason = None
    seconds = estimates.estimate_script_seconds(script, scene.speed) if script else 0.0
    price = max(0.01, seconds * SPEECH_USD_PER_SECOND)
    st.button("Listen", icon=":material/play_circle:", key=skey(rid, n, "listen"),
              disabled=bool(reason), on_click=on_listen, args=(env, rid, n),
              help=reason or f"Generate this scene's speech before paying for the video (about ${price:.2f}; "
                             "listening again is free).")
    if reason and voice_id:
        st.caption(reason)
    if error:
        st.caption(f":red[:material/error: {plain(error)}]")

