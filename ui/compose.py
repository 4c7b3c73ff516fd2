"""The Compose page: your drafts, the reel editor, per-scene listening, the estimate and launch.

State rules:

- The open reel is ``?c_reel=<id>`` in the URL (a link opens it; a reload keeps it); the last
  one opened in this tab is remembered for when the page is reached without it.
- Every editor widget is keyed per reel and scene (``c_r<id>_s<n>_script`` …) and seeded from
  the database on first draw. Each change saves the whole draft at once (``on_change``), so the
  database always holds what the user sees; a save that is refused keeps the text in the widget
  and says why next to the field. Structural edits (mode, add/move/remove scene) save first and
  then re-seed the scene widgets from the database.
- Who may do what comes from :mod:`core.access.permissions`: a reel the person may not edit opens
  read-only, and every control they may not use is disabled with the reason as its help text
  (core refuses the same actions anyway).
- No lost edits: the tab remembers the version of the draft it shows (``c_version``) and every
  save passes it; a save refused because the draft changed meanwhile (another tab, a colleague)
  keeps the widgets as typed and says who changed it and when, with a way to reload.
- Launch is defended in layers: the click sets a flag that draws the button disabled while the
  launch runs, repeat clicks after a successful launch are ignored, and
  :func:`core.jobs.lifecycle.launch`'s conditional update lets exactly one launch win.
"""

from __future__ import annotations

import logging
import re
from contextlib import closing
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import pandas as pd
import streamlit as st

from core.access.actor import Actor
from core.access.conflicts import EditConflict
from core.access.permissions import Action, PermissionDenied, denial, reel_denial
from core.board import text as board_text
from core.catalog.index import CatalogIndex
from core.catalog.normalise import locale_label
from core.db import session_scope
from core.heygen.errors import HeyGenError
from core.jobs import archive as jobs_archive
from core.jobs import lifecycle
from core.jobs.archive_store import ArchiveStoreError
from core.models import Reel, utcnow
from core.reels import drafts, speech, validation
from core.reels import estimate as estimates
from core.reels.pricing import SPEECH_USD_PER_SECOND
from ui import compose_summary as summary
from ui import own_media, script_drafts
from ui.batches import template_notice
from ui.browser import autosave_text_areas
from ui.data import catalog_view
from ui.frame import FrameContext, account_summary, forget_account_summary
from ui.links import browser_tzinfo
from ui.pickers import look_picker, voice_picker
from ui.text import plain
from ui.workspaces import budget_bar, current_workspace_id

log = logging.getLogger(__name__)

ROOT = Path(__file__).resolve().parents[1]
STATUS_PAGE = "pages/4_Status.py"
DEFAULT_BACKGROUND = "#F4F1EA"
MODE_LABELS = {"scene_based": "3 fixed scenes", "studio": "1–50 scenes"}
MODE_HELP = ("Both make one HeyGen video at the same price per second. **3 fixed scenes** (scene-based): exactly "
             "three scenes, e.g. hook, message, call to action. **1–50 scenes** (studio): add, move and remove "
             "scenes, up to HeyGen's 50.")
RESOLUTION_LABELS = {"720p": "720p", "1080p": "1080p", "4k": "4K"}
QUEUED_MESSAGE = "Queued — the worker will submit it to HeyGen within a few seconds."


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


def _init(key: str, value: Any) -> None:
    if key not in st.session_state:
        st.session_state[key] = value


def _forget(rid: int, *, scenes_only: bool = False) -> None:
    """Drop the reel's widget state so widgets re-seed from the database on their next draw
    (and the tab takes the stored version as the one it shows)."""
    prefix = f"c_r{rid}_s" if scenes_only else f"c_r{rid}_"
    for key in [k for k in st.session_state if isinstance(k, str) and k.startswith(prefix)]:
        del st.session_state[key]
    if not scenes_only:
        _versions().pop(rid, None)
        st.session_state.get("c_conflicts", {}).pop(rid, None)


def _versions() -> dict[int, int]:
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


def _look_name(env: Env, look_id: str | None) -> str:
    """The look's clean name ("" when none is chosen)."""
    return env.index.look_label(look_id).split(" · ")[0] if look_id else ""


def _voice_name(env: Env, voice_id: str | None) -> str:
    """The voice's clean name with its style ("" when none is chosen)."""
    return env.index.voice_label(voice_id).split(" · ")[0] if voice_id else ""


def _notify(text: str, icon: str = ":material/check_circle:") -> None:
    st.session_state["c_toast"] = (text, icon)


def _field_errors(rid: int) -> dict[str, list[str]]:
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
    errors = _field_errors(rid)
    errors.clear()
    versions = _versions()
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


def _on_edit(env: Env, rid: int) -> None:
    persist(env, rid)


def _on_look(env: Env, rid: int, n: int) -> None:
    """A new look on a scene without a voice brings the look's default voice along."""
    ss = st.session_state
    look = env.index.look(ss.get(skey(rid, n, "look")))
    voice_key = skey(rid, n, "voice")
    if look is not None and not ss.get(voice_key) and env.index.voice(look.default_voice_id):
        ss[voice_key] = look.default_voice_id
        ss.pop(f"{voice_key}_lang", None)
    persist(env, rid)


def _on_voice(env: Env, rid: int, n: int) -> None:
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


def _on_mode(env: Env, rid: int) -> None:
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
            _versions()[rid] = drafts.update_reel(s, rid, actor=env.actor, mode=new,
                                                  expected_version=_versions().get(rid)).version
    except (validation.ReelError, PermissionDenied, EditConflict) as exc:
        ss[rkey(rid, "mode")] = old
        _field_errors(rid).setdefault("mode", []).append(str(exc))
        return
    _forget(rid, scenes_only=True)


def _on_structure(env: Env, rid: int, op: str, n: int | None = None, to: int | None = None) -> None:
    """Add, remove or move a scene (studio mode), after saving the current edits."""
    if not persist(env, rid) and rid in st.session_state.get("c_conflicts", {}):
        return
    version = _versions().get(rid)
    try:
        with session_scope(env.factory) as s:
            if op == "add":
                reel = drafts.add_scene(s, rid, actor=env.actor, expected_version=version)
            elif op == "remove":
                reel = drafts.remove_scene(s, rid, n, actor=env.actor, expected_version=version)
            else:
                reel = drafts.move_scene(s, rid, n, to, actor=env.actor, expected_version=version)
            _versions()[rid] = reel.version
    except (validation.ReelError, PermissionDenied, EditConflict) as exc:
        _field_errors(rid).setdefault("scenes", []).append(str(exc))
        return
    _forget(rid, scenes_only=True)


def _on_new(env: Env) -> None:
    try:
        with session_scope(env.factory) as s:
            rid = drafts.create_reel(s, actor=env.actor, workspace_id=current_workspace_id()).id
    except PermissionDenied as exc:
        _notify(str(exc), ":material/block:")
        return
    select_reel(rid)
    _notify(f"New draft #{rid}: pick a look and a voice and write each scene's script.",
            ":material/add_circle:")


def _on_open(env: Env, rid: int, current: int | None) -> None:
    if current is not None and current != rid:
        persist(env, current)
    select_reel(rid)


def _on_duplicate(env: Env, rid: int) -> None:
    persist(env, rid)
    try:
        with session_scope(env.factory) as s:
            copy = drafts.duplicate_reel(s, rid, actor=env.actor)
            new_id, title = copy.id, copy.title
    except (validation.ReelError, PermissionDenied) as exc:
        _field_errors(rid).setdefault("reel", []).append(str(exc))
        return
    select_reel(new_id)
    _notify(f"Duplicated as “{plain(title)}”: an editable draft.", ":material/content_copy:")


def _on_delete(env: Env, rid: int) -> None:
    st.session_state.pop("c_confirm_delete", None)
    try:
        with session_scope(env.factory) as s:
            title = drafts.display_title(drafts.get_reel(s, rid).title, rid)
            if env.archive is not None:
                jobs_archive.delete_reel(s, env.archive, rid, actor=env.actor)  # with its archived files
            else:
                drafts.delete_reel(s, rid, actor=env.actor)
    except (validation.ReelError, PermissionDenied, ArchiveStoreError) as exc:
        _field_errors(rid).setdefault("reel", []).append(str(exc))
        return
    _forget(rid)
    select_reel(None)
    _notify(f"Deleted “{plain(title)}”.", ":material/delete:")


def _on_launch_request(env: Env, rid: int, confirm: bool) -> None:
    """Launch button: in live mode first ask (the confirm step shows what it will spend); else launch."""
    if confirm:
        persist(env, rid)
        st.session_state["c_confirm_launch"] = rid
    else:
        _on_launch_click(env, rid)


def _on_launch_click(env: Env, rid: int) -> None:
    """First layer against double clicks: set the flag that disables the button while launching;
    a repeat click after this tab launched the reel is ignored."""
    ss = st.session_state
    last = ss.get("c_result")
    ss.pop("c_confirm_launch", None)
    if ss.get("c_launching") or (last and last["reel"] == rid and last["ok"]):
        return
    persist(env, rid)
    ss["c_launching"] = rid


def _on_listen(env: Env, rid: int, n: int) -> None:
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


# --------------------------------------------------------------------------------------------
# The page
# --------------------------------------------------------------------------------------------


def compose_page(ctx: FrameContext) -> None:
    """Draw the Compose page for ``ctx.actor``."""
    st.title("Compose", anchor=False)
    view = catalog_view(ctx.runtime)
    env = Env(factory=ctx.runtime.session_factory, index=view.catalog.index, voices=view.voices,
              looks=view.looks, client=ctx.runtime.client, data_dir=ctx.settings.data_dir, actor=ctx.actor,
              script_model=ctx.runtime.script_model, runtime=ctx.runtime, sandbox=ctx.settings.sandbox,
              archive=ctx.runtime.archive)
    _accept_incoming(env)
    toast = st.session_state.pop("c_toast", None)
    if toast:
        st.toast(toast[0], icon=toast[1])
    rid = selected_reel_id()
    launching = rid is not None and st.session_state.get("c_launching") == rid
    if launching:  # before anything is drawn, so the drafts list and editor show the outcome
        _run_launch(env, rid)
    left, right = st.columns([1, 3.2], gap="large")
    with left:
        _drafts_panel(env, rid)
    with right:
        if rid is None:
            _empty_editor(env)
        else:
            _editor(env, rid, launching)
        own_media.my_media(_media_env(env))


def _accept_incoming(env: Env) -> None:
    """Take a voice/look sent by the Voices or Avatars page ("Use in a reel") into a scene."""
    ss = st.session_state
    voice_id, avatar_id = ss.pop("compose_voice_id", None), ss.pop("compose_avatar_id", None)
    wanted = ss.pop("compose_voice_filters", None) or {}
    if not voice_id and not avatar_id:
        return
    locale = wanted.get("accent") if voice_id and wanted.get("accent") in env.index.locales(voice_id) else None
    try:
        with session_scope(env.factory) as s:
            done = drafts.prefill(s, actor=env.actor, reel_id=selected_reel_id(), voice_id=voice_id,
                                  avatar_id=avatar_id, locale=locale)
            title = drafts.display_title(drafts.get_reel(s, done.reel_id).title, done.reel_id)
    except (validation.ReelError, PermissionDenied) as exc:
        st.toast(f"Could not add it to a reel: {plain(exc)}", icon=":material/error:")
        return
    _forget(done.reel_id)
    select_reel(done.reel_id)
    if voice_id:  # the scene's voice filters start from what was filtered for on Voices
        voice_key = skey(done.reel_id, done.scene, "voice")
        ss[f"{voice_key}_lang"] = wanted.get("language", "")
        ss[f"{voice_key}_accent"] = wanted.get("accent", "")
        if wanted.get("gender") in ("female", "male"):
            ss[f"{voice_key}_gender"] = wanted["gender"]
    what = " and ".join(part for part in (
        f"the look {_look_name(env, avatar_id)}" if avatar_id else "",
        f"the voice {_voice_name(env, voice_id)}" if voice_id else "",
    ) if part)
    where = "a new draft" if done.created else f"“{plain(title)}”"
    st.toast(f"Added {plain(what)} to scene {done.scene} of {where}.", icon=":material/playlist_add:")


def _drafts_panel(env: Env, rid: int | None) -> None:
    cannot_create = denial(env.actor, Action.CREATE_REEL)
    st.button("New reel", icon=":material/add:", type="primary", width="stretch", key="c_new",
              on_click=_on_new, args=(env,), disabled=cannot_create is not None, help=plain(cannot_create) or None)
    st.markdown("**Your drafts**")
    query = st.text_input("Search your drafts", key="c_q", bind="query-params", placeholder="Title contains…",
                          label_visibility="collapsed")
    with closing(env.factory()) as s:
        rows = drafts.list_drafts(s, env.actor.user_id, query=query or "")
    if not rows:
        st.caption("No drafts match." if query else "No drafts yet — start one with **New reel**.")
    now = utcnow()
    for row in rows:
        st.button(
            plain(drafts.display_title(row.title, row.id)), key=f"c_open_{row.id}",
            type="secondary" if row.id == rid else "tertiary",
            icon=":material/edit_note:" if row.id == rid else ":material/draft:",
            help=f"#{row.id} · {row.scenes} scene{'s' * (row.scenes != 1)} · edited "
                 f"{board_text.human_ago(row.updated_at, now)}",
            on_click=_on_open, args=(env, row.id, rid),
        )


def _empty_editor(env: Env) -> None:
    st.subheader("Start a reel")
    st.markdown(
        "A reel is one HeyGen video made of scenes: each scene is an **avatar look**, a **voice** and a "
        "**script**. Open a draft on the left, or start a **New reel**. You can listen to each scene "
        "before you pay, and see the estimated length and cost before you launch."
    )


def _load(env: Env, rid: int) -> tuple[Reel | None, dict[int, float]]:
    with session_scope(env.factory) as s:
        reel = s.get(Reel, rid)
        if reel is None:
            return None, {}
        reel.scenes  # noqa: B018 — load scenes before the session closes
        return reel, speech.measured_durations(s, reel)


def _run_launch(env: Env, rid: int) -> None:
    """Second part of a launch click: runs while the button is drawn disabled."""
    ss = st.session_state
    try:
        with closing(env.factory()) as s, st.spinner("Launching…"):
            result = lifecycle.launch(s, rid, actor=env.actor, index=env.index)
        ss["c_result"] = {"reel": rid, "ok": result.ok, "status": result.status, "message": result.message}
    except PermissionError as exc:  # PermissionDenied, or not a member of the reel's workspace: one sentence
        ss["c_result"] = {"reel": rid, "ok": False, "status": "draft", "message": str(exc)}
    except Exception:  # never show a traceback; the draft is untouched
        log.exception("launch of reel %s failed", rid)
        ss["c_result"] = {"reel": rid, "ok": False, "status": "draft",
                          "message": "The launch failed unexpectedly and nothing was queued; try again."}
    finally:
        ss.pop("c_launching", None)
        forget_account_summary()


def _editor(env: Env, rid: int, launching: bool = False) -> None:
    reel, measured = _load(env, rid)
    if reel is None:
        st.info(f"Reel #{rid} does not exist any more (it may have been deleted). Open another draft or "
                "start a new reel.", icon=":material/search_off:")
        st.button("Close", on_click=select_reel, args=(None,), key="c_close_missing")
        return
    _versions().setdefault(rid, reel.version)
    cannot_edit = reel_denial(env.actor, Action.EDIT_REEL, reel)
    editable = reel.status == "draft" and cannot_edit is None
    problems = validation.validate_reel(reel, env.index)
    estimate = estimates.estimate_reel(reel, env.index, measured)
    red = summary.visited(rid, reel, problems)  # the rest are to-dos, not errors (yet)
    by_field: dict[str, list[str]] = {}
    for p in problems:
        if p.field in red:
            by_field.setdefault(p.field, []).append(p.message)
    for field, messages in _field_errors(rid).items():
        by_field.setdefault(field, []).extend(messages)

    with st.sidebar:  # a script, drawn where its empty slot shows least
        autosave_text_areas('[class*="st-key-c_r"][class*="_script"]')
    _header(env, reel, editable, cannot_edit)
    if reel.is_template:
        template_notice(reel)
    _settings(env, reel, editable, by_field)
    _estimate_panel(env, reel, estimate, measured, problems, editable, launching, red)
    if editable:
        script_drafts.topic_panel(env, reel, env.script_model, expected_version=_versions().get(rid),
                                  on_applied=_reseed)
    _scenes(env, reel, editable, by_field, measured, problems)


def _reseed(rid: int | None) -> None:
    """After a draft or a restore changed reel ``rid`` (scenes, and perhaps its title and mode): open it with
    all its widgets re-seeded from the database, so the next save cannot write stale values back."""
    if rid is not None:
        _forget(rid)
        select_reel(rid)


_SCENE_PREFIX = re.compile(r"^Scene \d+: ")


def _messages(messages: list[str] | None, *, in_scene: bool = False) -> None:
    """Problems under the field they concern (inside a scene without the "Scene n:" prefix)."""
    for message in messages or ():
        text = _SCENE_PREFIX.sub("", message) if in_scene else message
        if in_scene:
            text = text[:1].upper() + text[1:]
        st.caption(f":red[:material/error: {plain(text)}]")


def _header(env: Env, reel: Reel, editable: bool, cannot_edit: str | None) -> None:
    ss, rid = st.session_state, reel.id
    cannot_duplicate = reel_denial(env.actor, Action.DUPLICATE_REEL, reel)
    cannot_delete = reel_denial(env.actor, Action.DELETE_REEL, reel)
    deletable = reel.status in validation.DELETABLE_STATUSES
    with st.container(horizontal=True, vertical_alignment="bottom", wrap=True):
        _init(rkey(rid, "title"), reel.title)
        st.text_input("Title", key=rkey(rid, "title"), max_chars=validation.TITLE_MAX_CHARS, disabled=not editable,
                      placeholder="Untitled reel — name it so your team can find it", live="1s", width=360,
                      on_change=_on_edit, args=(env, rid), help=plain(cannot_edit) or None)
        st.button("Duplicate", icon=":material/content_copy:", key=f"c_dup_{rid}",
                  disabled=cannot_duplicate is not None, on_click=_on_duplicate, args=(env, rid),
                  help=plain(cannot_duplicate) or "Make an editable copy of this reel.")
        st.button("Delete", icon=":material/delete:", key=f"c_del_{rid}",
                  disabled=not deletable or cannot_delete is not None,
                  help=plain(cannot_delete) or (None if deletable else "Queued reels and reels at HeyGen cannot be "
                                                               "deleted; cancel it first, or wait until it finishes."),
                  on_click=lambda: ss.update(c_confirm_delete=rid))
    _conflict_banner(env, rid)
    saved = ss.get("c_saved_at", {}).get(rid) or reel.updated_at
    if editable:
        st.caption(f"Draft #{rid} · owner {plain(reel.owner) or '—'} · saved as you type (after a second's pause) "
                   f"and on every choice · last saved {board_text.human_ago(saved)}")
    elif reel.status == "draft":
        st.info(f"{plain(cannot_edit)} You can look at it; Duplicate makes your own copy if you are a producer.",
                icon=":material/lock:")
    else:
        st.info(f"Reel #{rid} is **{reel.status}**: launched reels can't be edited. **Duplicate** it to make "
                "changes.", icon=":material/lock:")
        if (ss.get("c_result") or {}).get("reel") != rid:  # the launch result below links there already
            _status_link()
    if ss.get("c_confirm_delete") == rid:
        with st.container(border=True):
            archived = " and its archived video files" if reel.status == "completed" else ""
            st.warning(f"Delete “{plain(drafts.display_title(reel.title, rid))}”, its {len(reel.scenes)} scenes{archived}? "
                       "This cannot be undone.", icon=":material/warning:")
            yes, no, _ = st.columns([1, 1, 3])
            yes.button("Delete for good", type="primary", key=f"c_del_yes_{rid}", on_click=_on_delete,
                       args=(env, rid))
            no.button("Keep it", key=f"c_del_no_{rid}", on_click=lambda: ss.pop("c_confirm_delete", None))
    _messages(_field_errors(rid).get("reel"))


def _on_reload(rid: int) -> None:
    """Show the stored draft: widgets re-seed from the database; the unsaved texts stay on screen."""
    kept = st.session_state.get("c_conflicts", {}).get(rid)
    _forget(rid)
    if kept:
        st.session_state.setdefault("c_kept", {})[rid] = kept["unsaved"]


def _conflict_banner(env: Env, rid: int) -> None:
    """A save was refused because the draft changed meanwhile: who and when, reload, and the unsaved text."""
    conflict = st.session_state.get("c_conflicts", {}).get(rid)
    kept = st.session_state.get("c_kept", {}).get(rid)
    if conflict:
        with st.container(border=True, key="c_conflict"):
            st.warning(plain(conflict["message"]), icon=":material/sync_problem:")
            st.button("Reload the draft", key=f"c_reload_{rid}", icon=":material/refresh:", on_click=_on_reload,
                      args=(rid,), help="Show what is stored now; what you typed stays listed below to copy.")
    elif kept:
        with st.container(border=True, key="c_kept_text"):
            st.caption("Your text that was not saved (copy what you need):")
            for label, text in kept.items():
                st.text(label)
                st.code(text, language=None, wrap_lines=True)
            st.button("Done", key=f"c_kept_done_{rid}", on_click=lambda: st.session_state["c_kept"].pop(rid, None))


def _status_link() -> None:
    if (ROOT / STATUS_PAGE).exists():
        st.page_link(STATUS_PAGE, label="Follow it on the Status page", icon=":material/monitoring:")


def _settings(env: Env, reel: Reel, editable: bool, by_field: dict[str, list[str]]) -> None:
    rid = reel.id
    row = st.container(horizontal=True, vertical_alignment="bottom", gap="medium")
    _init(rkey(rid, "mode"), reel.mode)
    row.segmented_control("Mode", validation.MODES, key=rkey(rid, "mode"), format_func=MODE_LABELS.get,
                          required=True, disabled=not editable, on_change=_on_mode, args=(env, rid),
                          help=MODE_HELP)
    _init(rkey(rid, "aspect"), reel.aspect_ratio)
    row.selectbox("Aspect ratio", validation.ASPECT_RATIOS, key=rkey(rid, "aspect"), disabled=not editable,
                  on_change=_on_edit, args=(env, rid), width=110)
    _init(rkey(rid, "resolution"), reel.resolution)
    row.selectbox("Resolution", validation.RESOLUTIONS, key=rkey(rid, "resolution"), disabled=not editable,
                  format_func=RESOLUTION_LABELS.get, on_change=_on_edit, args=(env, rid), width=110)
    _init(rkey(rid, "engine"), reel.engine)
    row.selectbox("Engine", validation.ENGINES, key=rkey(rid, "engine"), disabled=not editable,
                  format_func=validation.ENGINE_LABELS.get, on_change=_on_edit, args=(env, rid), width=130,
                  help="HeyGen's avatar engine; it sets the price per second and which looks fit.")
    _init(rkey(rid, "captions"), reel.captions)
    row.toggle("Captions", key=rkey(rid, "captions"), disabled=not editable, on_change=_on_edit,
               args=(env, rid), help="Also produce an SRT subtitle file and a captioned video.")
    for field in ("mode", "aspect_ratio", "resolution", "engine", "captions", "title", "scenes"):
        _messages(by_field.get(field))


def _launch_blocker(reel: Reel, problems: list[validation.Problem], editable: bool, launching: bool) -> str | None:
    """Why Launch is disabled (its tooltip), or ``None`` when it can be pressed."""
    if launching:
        return "Launching…"
    if reel.is_template:
        return "A template is launched from the Batches page, one reel per spreadsheet row."
    if not editable:
        return "Already launched: Duplicate it to launch a changed copy."
    if problems:
        first = "; ".join(p.message for p in problems[:2])
        more = f" (and {len(problems) - 2} more)" if len(problems) > 2 else ""
        return f"Not ready: {first}{more}"
    return None


def _estimate_panel(env: Env, reel: Reel, estimate: validation.Estimate, measured: dict[int, float],
                    problems: list[validation.Problem], editable: bool, launching: bool, red: set[str]) -> None:
    """The launch bar (sticky: it stays in view over the scenes), then the confirm step, the launch
    result, the to-do checklist and the per-scene costs."""
    rid = reel.id
    live = not env.sandbox
    cost = estimates.cents(estimate.cost_usd)
    budget_bar(env.factory, reel.workspace_id)
    with st.container(border=True, key="c_launch_bar", horizontal=True, wrap=True, vertical_alignment="center",
                      gap="medium"):
        st.metric("Estimated length", board_text.format_seconds(estimate.duration_s), width="content",
                  help="Measured from scene previews where you listened, else about 150 words per minute.")
        st.metric("Estimated cost", f"${cost:,.2f}", width="content",
                  help="HeyGen's per-second price for the engine, each look's avatar type and the resolution, "
                       "billed in whole seconds." + ("" if live else " Sandbox: play money."))
        bad_scenes = {p.field.split("]")[0] for p in problems if p.field.startswith("scenes[")}
        n_scenes = len(reel.scenes)
        st.metric("Scenes ready", f"{n_scenes - len(bad_scenes)} of {n_scenes}", width="content")
        cannot_launch = reel_denial(env.actor, Action.LAUNCH_REEL, reel)
        blocker = _launch_blocker(reel, problems, editable, launching) or plain(cannot_launch) or None
        with st.container(width=220, gap="small"):
            st.button("Launch", type="primary", icon=":material/rocket_launch:", key=f"c_launch_{rid}",
                      width="stretch", disabled=bool(blocker), on_click=_on_launch_request, args=(env, rid, live),
                      help=blocker or ("Check the cost, then confirm: HeyGen renders it as one studio video."
                                       if live else "Queue this reel; the worker sends it to HeyGen as one studio "
                                                    "video (sandbox: play money)."))
            if editable and problems:
                st.caption("See the checklist below.")
            elif editable:
                st.caption(":green[:material/task_alt: Ready to launch]")
    with st.container(key="c_estimate"):
        if live and editable and not problems and st.session_state.get("c_confirm_launch") == rid:
            _confirm_launch(env, reel, estimate, cost)
        _launch_result(rid)
        if editable and problems:
            summary.checklist(problems, red)
        summary.breakdown(reel, env.index, estimate, measured, look_name=lambda i: _look_name(env, i),
                          voice_name=lambda i: _voice_name(env, i))


def _confirm_launch(env: Env, reel: Reel, estimate: validation.Estimate, cost: Decimal) -> None:
    """Live mode: say what the launch will spend before it does."""
    balance, _account = account_summary(env.runtime, env.runtime.settings.mode)
    with st.container(border=True, key="c_confirm"):
        st.markdown(f"**Launch “{drafts.display_title(reel.title, reel.id)}” for about ${cost:,.2f}?**")
        st.caption(f"{len(reel.scenes)} scene{'s' * (len(reel.scenes) != 1)}, about "
                   f"{board_text.format_seconds(estimate.duration_s)} of video at {reel.resolution}. HeyGen bills "
                   f"your account when the render completes; your balance is {balance}.")
        yes, no = st.columns(2)
        yes.button(f"Launch for ${cost:,.2f}", type="primary", key=f"c_launch_yes_{reel.id}", width="stretch",
                   icon=":material/rocket_launch:", on_click=_on_launch_click, args=(env, reel.id))
        no.button("Not yet", key=f"c_launch_no_{reel.id}", width="stretch",
                  on_click=lambda: st.session_state.pop("c_confirm_launch", None))


def _launch_result(rid: int) -> None:
    result = st.session_state.get("c_result")
    if not result or result["reel"] != rid:
        return
    if result["ok"] and result["status"] == "awaiting_approval":
        st.info(result["message"], icon=":material/approval:")
        _status_link()
    elif result["ok"]:
        st.success(QUEUED_MESSAGE, icon=":material/schedule_send:")
        _status_link()
    elif result["status"] == "draft":
        st.error(f"Not launched: {plain(result['message'])} The draft is unchanged.", icon=":material/block:")
    else:
        st.warning(f"Already launched: {result['message']}", icon=":material/info:")
        _status_link()


# --------------------------------------------------------------------------------------------
# Scenes
# --------------------------------------------------------------------------------------------


def _scenes(env: Env, reel: Reel, editable: bool, by_field: dict[str, list[str]],
            measured: dict[int, float], problems: list[validation.Problem]) -> None:
    scenes = sorted(reel.scenes, key=lambda s: s.position)
    studio = reel.mode == "studio"
    st.markdown(f"#### Scenes ({len(scenes)})")
    versions = script_drafts.history_counts(env, reel.id)
    for n, scene in enumerate(scenes, start=1):
        field_prefix = f"scenes[{n}]"
        scene_problems = {f: m for f, m in by_field.items() if f.startswith(field_prefix)}
        label = (f"Scene {n} · {plain(_look_name(env, scene.avatar_id)) or 'no look yet'} · "
                 f"{'own audio' if scene.audio_asset_ref else plain(_voice_name(env, scene.voice_id)) or 'no voice yet'}")
        to_do = any(p.field.startswith(field_prefix) for p in problems)
        icon = (":material/error:" if scene_problems else
                ":material/radio_button_unchecked:" if to_do else ":material/check_circle:")
        with st.expander(label, expanded=n <= 3 or bool(scene_problems), icon=icon):
            _scene_editor(env, reel, scene, n, editable, scene_problems, measured, versions.get(scene.uid, 0))
            if studio and editable:
                _scene_moves(env, reel.id, n, len(scenes))
    if studio and editable:
        st.button("Add scene", icon=":material/add:", key=f"c_add_{reel.id}",
                  disabled=len(scenes) >= validation.STUDIO_MAX_SCENES, on_click=_on_structure,
                  args=(env, reel.id, "add"))


def _scene_moves(env: Env, rid: int, n: int, count: int) -> None:
    row = st.container(horizontal=True)
    row.button("Move up", icon=":material/arrow_upward:", key=skey(rid, n, "up"), disabled=n == 1,
               on_click=_on_structure, args=(env, rid, "move", n, n - 1))
    row.button("Move down", icon=":material/arrow_downward:", key=skey(rid, n, "down"), disabled=n == count,
               on_click=_on_structure, args=(env, rid, "move", n, n + 1))
    row.button("Remove", icon=":material/delete:", key=skey(rid, n, "remove"), disabled=count == 1,
               on_click=_on_structure, args=(env, rid, "remove", n))


def _scene_editor(env: Env, reel: Reel, scene: Any, n: int, editable: bool,
                  problems: dict[str, list[str]], measured: dict[int, float], versions: int = 0) -> None:
    rid = reel.id
    pick, write = st.columns([1, 1], gap="medium")
    with pick:
        _init(skey(rid, n, "look"), scene.avatar_id)
        look_picker(env.looks, env.index, key=skey(rid, n, "look"), disabled=not editable,
                    on_change=_on_look, args=(env, rid, n))
        _messages(problems.get(f"scenes[{n}].avatar_id"), in_scene=True)
        own = own_media.voice_source(rid, n, scene, editable, _on_edit, (env, rid))
        if own:
            own_media.scene_audio(_media_env(env), rid, n, scene, editable, lambda: persist(env, rid))
            _messages(problems.get(f"scenes[{n}].audio_asset_ref"), in_scene=True)
        else:
            _init(skey(rid, n, "voice"), scene.voice_id)
            voice_picker(env.voices, env.index, key=skey(rid, n, "voice"), disabled=not editable,
                         on_change=_on_voice, args=(env, rid, n))
            _messages(problems.get(f"scenes[{n}].voice_id"), in_scene=True)
    with write:
        _init(skey(rid, n, "script"), scene.script)
        script = st.text_area(own_media.SCRIPT_LABEL if own else "Script", key=skey(rid, n, "script"), height=170,
                              disabled=not editable, on_change=_on_edit, args=(env, rid),
                              placeholder=own_media.SCRIPT_PLACEHOLDER if own else "What the avatar says in this scene…")
        if own:
            st.caption(own_media.SCRIPT_HELP)
        else:
            _script_caption(script or "", scene, measured.get(scene.position))
        _messages(problems.get(f"scenes[{n}].script"), in_scene=True)
        script_drafts.scene_history(env, reel, scene, editable, versions, expected_version=_versions().get(rid),
                                    on_restored=_reseed)
        if not own:
            _voice_settings(env, rid, n, scene, editable, problems)
        _background(env, rid, n, scene, editable)
        _messages(problems.get(f"scenes[{n}].background_color"), in_scene=True)
        if not own:
            _listen(env, rid, n, scene, editable)
        for field, messages in problems.items():
            if field.split(".")[-1] in ("position",):
                _messages(messages, in_scene=True)


def _voice_settings(env: Env, rid: int, n: int, scene: Any, editable: bool, problems: dict[str, list[str]]) -> None:
    """Speed, pitch and accent of a scene read by a HeyGen voice."""
    speed_col, pitch_col = st.columns(2)
    _init(skey(rid, n, "speed"), float(scene.speed))
    speed_col.slider("Speed", validation.SPEED_MIN, validation.SPEED_MAX, step=0.05, key=skey(rid, n, "speed"),
                     format="%.2f×", disabled=not editable, on_change=_on_edit, args=(env, rid))
    _init(skey(rid, n, "pitch"), float(scene.pitch))
    pitch_col.slider("Pitch", validation.PITCH_MIN, validation.PITCH_MAX, step=1.0, key=skey(rid, n, "pitch"),
                     format="%+.0f", disabled=not editable, on_change=_on_edit, args=(env, rid),
                     help="Semitones up or down from the voice's own pitch.")
    _messages(problems.get(f"scenes[{n}].speed"), in_scene=True)
    _messages(problems.get(f"scenes[{n}].pitch"), in_scene=True)
    _accent(env, rid, n, scene, editable)
    _messages(problems.get(f"scenes[{n}].locale"), in_scene=True)


def _media_env(env: Env) -> own_media.MediaEnv:
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
    _init(key, scene.locale or "")
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
                 on_change=_on_edit, args=(env, rid), help=reason or "The locale the voice speaks with.")
    if reason and voice is not None:
        st.caption(reason)


def _background(env: Env, rid: int, n: int, scene: Any, editable: bool) -> None:
    on_key, color_key = skey(rid, n, "bg_on"), skey(rid, n, "bg")
    _init(on_key, scene.background_color is not None)
    _init(color_key, scene.background_color or DEFAULT_BACKGROUND)
    with st.container(horizontal=True, vertical_alignment="center"):
        st.toggle("Colour background", key=on_key, disabled=not editable, on_change=_on_edit, args=(env, rid),
                  help="Off: the look's own background.")
        st.color_picker("Background colour", key=color_key, disabled=not editable or not st.session_state[on_key],
                        on_change=_on_edit, args=(env, rid), label_visibility="collapsed")


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
              disabled=bool(reason), on_click=_on_listen, args=(env, rid, n),
              help=reason or f"Generate this scene's speech before paying for the video (about ${price:.2f}; "
                             "listening again is free).")
    if reason and voice_id:
        st.caption(reason)
    if error:
        st.caption(f":red[:material/error: {plain(error)}]")

