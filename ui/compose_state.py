"""Compose's state: the callbacks' environment, widget keys, the open reel, and every save.

All saving happens in callbacks, which run before the page draws its widgets (see :mod:`ui.compose`).
"""

from __future__ import annotations

import re
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
import streamlit as st

from core.access.actor import Actor
from core.access.conflicts import EditConflict
from core.access.permissions import Action, PermissionDenied, reel_denial
from core.catalog.index import CatalogIndex
from core.db import session_scope
from core.heygen.errors import HeyGenError
from core.jobs import archive as jobs_archive
from core.jobs.archive_store import ArchiveStoreError
from core.models import Reel, utcnow
from core.reels import drafts, speech, validation
from ui import compose_summary as summary
from ui import own_media
from ui.frame import forget_account_summary
from ui.links import browser_tzinfo
from ui.text import plain
from ui.workspaces import current_workspace_id

DEFAULT_BACKGROUND = "#F4F1EA"




@dataclass(frozen=True)
class Env:
    """What callbacks need: database, catalog, HeyGen client, data folder and who is acting."""

    factory: Any
    index: CatalogIndex
    voices: pd.DataFrame
    looks: pd.DataFrame
    client: Any
    data_dir: Path
    actor: Actor
    script_model: Any = None
    runtime: Any = None  # for the account balance in the live-mode launch confirmation
    sandbox: bool = True  # live mode asks before Launch spends money
    archive: Any = None  # the archive store: a finished reel's archived files go with it


# --------------------------------------------------------------------------------------------
# Keys and selection
# --------------------------------------------------------------------------------------------


def rkey(rid: int, name: str) -> str:
    """Widget key of a reel field, e.g. ``c_r12_title``."""
    return f"c_r{rid}_{name}"


def skey(rid: int, n: int, name: str) -> str:
    """Widget key of a scene field (``n`` 1-based), e.g. ``c_r12_s2_script``."""
    return f"c_r{rid}_s{n}_{name}"


def seed_widget(key: str, value: Any) -> None:
    if key not in st.session_state:
        st.session_state[key] = value


def forget_widgets(rid: int, *, scenes_only: bool = False) -> None:
    """Drop the reel's widget state so widgets re-seed from the database on their next draw
    (and the tab takes the stored version as the one it shows)."""
    prefix = f"c_r{rid}_s" if scenes_only else f"c_r{rid}_"
    for key in [k for k in st.session_state if isinstance(k, str) and k.startswith(prefix)]:
        del st.session_state[key]
    if not scenes_only:
        shown_versions().pop(rid, None)
        st.session_state.get("c_conflicts", {}).pop(rid, None)


def shown_versions() -> dict[int, int]:
    """Reel id → the version of the draft this tab shows (what its next save expects)."""
    return st.session_state.setdefault("c_version", {})


def _conflict(rid: int, exc: EditConflict, unsaved: dict[str, str]) -> None:
    """Remember a refused save: the sentence (in the browser's time zone) and the texts not saved."""
    st.session_state.setdefault("c_conflicts", {})[rid] = {"message": exc.message(browser_tzinfo()),
                                                          "unsaved": unsaved}


def selected_reel_id() -> int | None:
    """The open reel: ``?c_reel=`` in the URL, else the last one opened in this tab."""
    raw = st.query_params.get("c_reel")
    if raw is None and st.session_state.get("c_reel_last") is not None:
        raw = str(st.session_state["c_reel_last"])
        st.query_params["c_reel"] = raw
    try:
        return int(raw) if raw is not None else None
    except ValueError:
        return None


def select_reel(rid: int | None) -> None:
    """Open reel ``rid`` (``None`` closes the editor); updates the URL."""
    if rid is None:
        st.query_params.pop("c_reel", None)
        st.session_state.pop("c_reel_last", None)
    else:
        st.query_params["c_reel"] = str(rid)
        st.session_state["c_reel_last"] = rid


def look_name(env: Env, look_id: str | None) -> str:
    """The look's clean name ("" when none is chosen)."""
    return env.index.look_label(look_id).split(" · ")[0] if look_id else ""


def voice_name(env: Env, voice_id: str | None) -> str:
    """The voice's clean name with its style ("" when none is chosen)."""
    return env.index.voice_label(voice_id).split(" · ")[0] if voice_id else ""


def _notify(text: str, icon: str = ":material/check_circle:") -> None:
    st.session_state["c_toast"] = (text, icon)


def field_errors(rid: int) -> dict[str, list[str]]:
    return st.session_state.setdefault("c_save_errors", {}).setdefault(rid, {})


# --------------------------------------------------------------------------------------------
# Saving (all in callbacks: they run before the page draws its widgets)
# --------------------------------------------------------------------------------------------


def _scene_inputs(env: Env, rid: int, reel: Reel) -> list[validation.SceneInput]:
    """The scenes as the widgets show them (database values for widgets not drawn yet)."""
    ss = st.session_state
    out = []
    for n, scene in enumerate(sorted(reel.scenes, key=lambda s: s.position), start=1):
        voice = ss.get(skey(rid, n, "voice"), scene.voice_id)
        locale = ss.get(skey(rid, n, "locale"), scene.locale) or None
        if locale and locale not in env.index.locales(voice):
            locale = None
            if skey(rid, n, "locale") in ss:
                ss[skey(rid, n, "locale")] = ""
        bg_on = ss.get(skey(rid, n, "bg_on"), scene.background_color is not None)
        bg = ss.get(skey(rid, n, "bg"), scene.background_color or DEFAULT_BACKGROUND)
        out.append(validation.SceneInput(
            position=n,
            avatar_id=ss.get(skey(rid, n, "look"), scene.avatar_id),
            voice_id=voice,
            script=ss.get(skey(rid, n, "script"), scene.script),
            speed=float(ss.get(skey(rid, n, "speed"), scene.speed)),
            pitch=float(ss.get(skey(rid, n, "pitch"), scene.pitch)),
            locale=locale,
            background_color=str(bg).upper() if bg_on else None,
            audio_asset_ref=own_media.scene_audio_ref(rid, n, scene),
        ))
    return out


def _settings_values(rid: int, reel: Reel) -> dict[str, Any]:
    ss = st.session_state
    return {
        "title": ss.get(rkey(rid, "title"), reel.title),
        "aspect_ratio": ss.get(rkey(rid, "aspect"), reel.aspect_ratio),
        "resolution": ss.get(rkey(rid, "resolution"), reel.resolution),
        "captions": bool(ss.get(rkey(rid, "captions"), reel.captions)),
        "engine": ss.get(rkey(rid, "engine"), reel.engine),
    }


def persist(env: Env, rid: int) -> bool:
    """Save the open draft from its widgets: settings, then scenes (each its own transaction).

    Refusals (:class:`core.reels.validation.ReelValidationError`) are kept per field for display and the
    widgets keep the user's values. Fields whose value changed count as visited
    (:func:`ui.compose_summary.mark_edits`). Returns True when everything was saved.
    """
    errors = field_errors(rid)
    errors.clear()
    versions = shown_versions()
    scenes: list[validation.SceneInput] = []
    values: dict[str, Any] = {}
    try:
        with session_scope(env.factory) as s:
            reel = drafts.get_reel(s, rid)
            if reel.status != "draft" or reel_denial(env.actor, Action.EDIT_REEL, reel):
                return False
            versions.setdefault(rid, reel.version)
            values, scenes = _settings_values(rid, reel), _scene_inputs(env, rid, reel)
            summary.mark_edits(rid, reel, values, scenes)
            versions[rid] = drafts.update_reel(s, rid, actor=env.actor, expected_version=versions[rid],
                                               **values).version
        with session_scope(env.factory) as s:
            versions[rid] = drafts.set_scenes(s, rid, scenes, actor=env.actor,
                                              expected_version=versions[rid]).version
    except EditConflict as exc:
        _conflict(rid, exc, {"Title": str(values.get("title") or ""),
                             **{f"Scene {sc.position} script": sc.script for sc in scenes if sc.script}})
        return False
    except validation.ReelValidationError as exc:
        for p in exc.problems:
            errors.setdefault(p.field, []).append(f"{p.message} Not saved yet — your text is kept here.")
        return False
    except (validation.ReelError, PermissionDenied) as exc:
        errors.setdefault("reel", []).append(str(exc))
        return False
    st.session_state.get("c_conflicts", {}).pop(rid, None)
    st.session_state["c_saved_at"] = {**st.session_state.get("c_saved_at", {}), rid: utcnow()}
    return True


def on_edit(env: Env, rid: int) -> None:
    persist(env, rid)


def on_look(env: Env, rid: int, n: int) -> None:
    """A new look on a scene without a voice brings the look's default voice along."""
    ss = st.session_state
    look = env.index.look(ss.get(skey(rid, n, "look")))
    voice_key = skey(rid, n, "voice")
    if look is not None and not ss.get(voice_key) and env.index.voice(look.default_voice_id):
        ss[voice_key] = look.default_voice_id
        ss.pop(f"{voice_key}_lang", None)
    persist(env, rid)


def on_voice(env: Env, rid: int, n: int) -> None:
    """A voice found through the accent filter gets that accent when it offers it."""
    ss = st.session_state
    voice_id = ss.get(skey(rid, n, "voice"))
    wanted = ss.get(f"{skey(rid, n, 'voice')}_accent") or None
    locales = env.index.locales(voice_id)
    locale_key = skey(rid, n, "locale")
    if wanted and wanted in locales:
        ss[locale_key] = wanted
    elif ss.get(locale_key) not in (None, "", *locales):
        ss[locale_key] = ""
    persist(env, rid)


def on_mode(env: Env, rid: int) -> None:
    ss = st.session_state
    new = ss.get(rkey(rid, "mode"))
    if not persist(env, rid) and rid in ss.get("c_conflicts", {}):
        return
    try:
        with session_scope(env.factory) as s:
            old = drafts.get_reel(s, rid).mode
            if new is None or new == old:
                ss[rkey(rid, "mode")] = old
                return
            shown_versions()[rid] = drafts.update_reel(s, rid, actor=env.actor, mode=new,
                                                  expected_version=shown_versions().get(rid)).version
    except (validation.ReelError, PermissionDenied, EditConflict) as exc:
        ss[rkey(rid, "mode")] = old
        field_errors(rid).setdefault("mode", []).append(str(exc))
        return
    forget_widgets(rid, scenes_only=True)


def on_structure(env: Env, rid: int, op: str, n: int | None = None, to: int | None = None) -> None:
    """Add, remove or move a scene (studio mode), after saving the current edits."""
    if not persist(env, rid) and rid in st.session_state.get("c_conflicts", {}):
        return
    version = shown_versions().get(rid)
    try:
        with session_scope(env.factory) as s:
            if op == "add":
                reel = drafts.add_scene(s, rid, actor=env.actor, expected_version=version)
            elif op == "remove":
                reel = drafts.remove_scene(s, rid, n, actor=env.actor, expected_version=version)
            else:
                reel = drafts.move_scene(s, rid, n, to, actor=env.actor, expected_version=version)
            shown_versions()[rid] = reel.version
    except (validation.ReelError, PermissionDenied, EditConflict) as exc:
        field_errors(rid).setdefault("scenes", []).append(str(exc))
        return
    forget_widgets(rid, scenes_only=True)


def on_new(env: Env) -> None:
    try:
        with session_scope(env.factory) as s:
            rid = drafts.create_reel(s, actor=env.actor, workspace_id=current_workspace_id()).id
    except PermissionDenied as exc:
        _notify(str(exc), ":material/block:")
        return
    select_reel(rid)
    _notify(f"New draft #{rid}: pick a look and a voice and write each scene's script.",
            ":material/add_circle:")


def on_open(env: Env, rid: int, current: int | None) -> None:
    if current is not None and current != rid:
        persist(env, current)
    select_reel(rid)


def on_duplicate(env: Env, rid: int) -> None:
    persist(env, rid)
    try:
        with session_scope(env.factory) as s:
            copy = drafts.duplicate_reel(s, rid, actor=env.actor)
            new_id, title = copy.id, copy.title
    except (validation.ReelError, PermissionDenied) as exc:
        field_errors(rid).setdefault("reel", []).append(str(exc))
        return
    select_reel(new_id)
    _notify(f"Duplicated as “{plain(title)}”: an editable draft.", ":material/content_copy:")


def on_delete(env: Env, rid: int) -> None:
    st.session_state.pop("c_confirm_delete", None)
    try:
        with session_scope(env.factory) as s:
            title = drafts.display_title(drafts.get_reel(s, rid).title, rid)
            if env.archive is not None:
                jobs_archive.delete_reel(s, env.archive, rid, actor=env.actor)  # with its archived files
            else:
                drafts.delete_reel(s, rid, actor=env.actor)
    except (validation.ReelError, PermissionDenied, ArchiveStoreError) as exc:
        field_errors(rid).setdefault("reel", []).append(str(exc))
        return
    forget_widgets(rid)
    select_reel(None)
    _notify(f"Deleted “{plain(title)}”.", ":material/delete:")


def on_launch_request(env: Env, rid: int, confirm: bool) -> None:
    """Launch button: in live mode first ask (the confirm step shows what it will spend); else launch."""
    if confirm:
        persist(env, rid)
        st.session_state["c_confirm_launch"] = rid
    else:
        on_launch_click(env, rid)


def on_launch_click(env: Env, rid: int) -> None:
    """First layer against double clicks: set the flag that disables the button while launching;
    a repeat click after this tab launched the reel is ignored."""
    ss = st.session_state
    last = ss.get("c_result")
    ss.pop("c_confirm_launch", None)
    if ss.get("c_launching") or (last and last["reel"] == rid and last["ok"]):
        return
    persist(env, rid)
    ss["c_launching"] = rid


def on_listen(env: Env, rid: int, n: int) -> None:
    persist(env, rid)
    errors = st.session_state.setdefault("c_listen_errors", {})
    errors.pop((rid, n), None)
    with closing(env.factory()) as s:
        reel = drafts.get_reel(s, rid)
        scene = sorted(reel.scenes, key=lambda sc: sc.position)[n - 1]
        try:
            speech.speech_sample(s, env.client, env.data_dir, scene.voice_id or "", scene.script,
                                 actor=env.actor, speed=scene.speed, locale=scene.locale)
            s.commit()
            forget_account_summary()  # the sidebar balance shows what the listen spent
        except (speech.SpeechUnavailable, HeyGenError, PermissionDenied) as exc:
            s.rollback()
            errors[(rid, n)] = str(exc)


SCENE_PREFIX = re.compile(r"^Scene \d+: ")


def field_messages(messages: list[str] | None, *, in_scene: bool = False) -> None:
    """Problems under the field they concern (inside a scene without the "Scene n:" prefix)."""
    for message in messages or ():
        text = SCENE_PREFIX.sub("", message) if in_scene else message
        if in_scene:
            text = text[:1].upper() + text[1:]
        st.caption(f":red[:material/error: {plain(text)}]")


def reseed(rid: int | None) -> None:
    """After a draft or a restore changed reel ``rid`` (scenes, and perhaps its title and mode): open it with
    all its widgets re-seeded from the database, so the next save cannot write stale values back."""
    if rid is not None:
        forget_widgets(rid)
        select_reel(rid)
