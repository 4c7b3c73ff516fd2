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
from contextlib import closing
from decimal import Decimal
from pathlib import Path

import streamlit as st

from core.access.permissions import Action, PermissionDenied, denial, reel_denial
from core.board import text as board_text
from core.db import session_scope
from core.jobs import lifecycle
from core.models import Reel, utcnow
from core.reels import drafts, speech, validation
from core.reels import estimate as estimates
from ui import compose_summary as summary
from ui import own_media, script_drafts
from ui.batches import template_notice
from ui.browser import autosave_text_areas
from ui.compose_scenes import media_env, scenes_section
from ui.compose_state import (
    Env,
    field_errors,
    field_messages,
    forget_widgets,
    look_name,
    on_delete,
    on_duplicate,
    on_edit,
    on_launch_click,
    on_launch_request,
    on_mode,
    on_new,
    on_open,
    reseed,
    rkey,
    seed_widget,
    select_reel,
    selected_reel_id,
    shown_versions,
    skey,
    voice_name,
)
from ui.data import catalog_view
from ui.frame import FrameContext, account_summary, forget_account_summary
from ui.text import plain
from ui.workspaces import budget_bar

log = logging.getLogger(__name__)

ROOT = Path(__file__).resolve().parents[1]
STATUS_PAGE = "pages/4_Status.py"
MODE_LABELS = {"scene_based": "3 fixed scenes", "studio": "1–50 scenes"}
MODE_HELP = ("Both make one HeyGen video at the same price per second. **3 fixed scenes** (scene-based): exactly "
             "three scenes, e.g. hook, message, call to action. **1–50 scenes** (studio): add, move and remove "
             "scenes, up to HeyGen's 50.")
RESOLUTION_LABELS = {"720p": "720p", "1080p": "1080p", "4k": "4K"}
QUEUED_MESSAGE = "Queued — the worker will submit it to HeyGen within a few seconds."





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
        own_media.my_media(media_env(env))


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
    forget_widgets(done.reel_id)
    select_reel(done.reel_id)
    if voice_id:  # the scene's voice filters start from what was filtered for on Voices
        voice_key = skey(done.reel_id, done.scene, "voice")
        ss[f"{voice_key}_lang"] = wanted.get("language", "")
        ss[f"{voice_key}_accent"] = wanted.get("accent", "")
        if wanted.get("gender") in ("female", "male"):
            ss[f"{voice_key}_gender"] = wanted["gender"]
    what = " and ".join(part for part in (
        f"the look {look_name(env, avatar_id)}" if avatar_id else "",
        f"the voice {voice_name(env, voice_id)}" if voice_id else "",
    ) if part)
    where = "a new draft" if done.created else f"“{plain(title)}”"
    st.toast(f"Added {plain(what)} to scene {done.scene} of {where}.", icon=":material/playlist_add:")


def _drafts_panel(env: Env, rid: int | None) -> None:
    cannot_create = denial(env.actor, Action.CREATE_REEL)
    st.button("New reel", icon=":material/add:", type="primary", width="stretch", key="c_new",
              on_click=on_new, args=(env,), disabled=cannot_create is not None, help=plain(cannot_create) or None)
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
            on_click=on_open, args=(env, row.id, rid),
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
    shown_versions().setdefault(rid, reel.version)
    cannot_edit = reel_denial(env.actor, Action.EDIT_REEL, reel)
    editable = reel.status == "draft" and cannot_edit is None
    problems = validation.validate_reel(reel, env.index)
    estimate = estimates.estimate_reel(reel, env.index, measured)
    red = summary.visited(rid, reel, problems)  # the rest are to-dos, not errors (yet)
    by_field: dict[str, list[str]] = {}
    for p in problems:
        if p.field in red:
            by_field.setdefault(p.field, []).append(p.message)
    for field, messages in field_errors(rid).items():
        by_field.setdefault(field, []).extend(messages)

    with st.sidebar:  # a script, drawn where its empty slot shows least
        autosave_text_areas('[class*="st-key-c_r"][class*="_script"]')
    _header(env, reel, editable, cannot_edit)
    if reel.is_template:
        template_notice(reel)
    _settings(env, reel, editable, by_field)
    _estimate_panel(env, reel, estimate, measured, problems, editable, launching, red)
    if editable:
        script_drafts.topic_panel(env, reel, env.script_model, expected_version=shown_versions().get(rid),
                                  on_applied=reseed)
    scenes_section(env, reel, editable, by_field, measured, problems)











def _header(env: Env, reel: Reel, editable: bool, cannot_edit: str | None) -> None:
    ss, rid = st.session_state, reel.id
    cannot_duplicate = reel_denial(env.actor, Action.DUPLICATE_REEL, reel)
    cannot_delete = reel_denial(env.actor, Action.DELETE_REEL, reel)
    deletable = reel.status in validation.DELETABLE_STATUSES
    with st.container(horizontal=True, vertical_alignment="bottom", wrap=True):
        seed_widget(rkey(rid, "title"), reel.title)
        st.text_input("Title", key=rkey(rid, "title"), max_chars=validation.TITLE_MAX_CHARS, disabled=not editable,
                      placeholder="Untitled reel — name it so your team can find it", live="1s", width=360,
                      on_change=on_edit, args=(env, rid), help=plain(cannot_edit) or None)
        st.button("Duplicate", icon=":material/content_copy:", key=f"c_dup_{rid}",
                  disabled=cannot_duplicate is not None, on_click=on_duplicate, args=(env, rid),
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
            yes.button("Delete for good", type="primary", key=f"c_del_yes_{rid}", on_click=on_delete,
                       args=(env, rid))
            no.button("Keep it", key=f"c_del_no_{rid}", on_click=lambda: ss.pop("c_confirm_delete", None))
    field_messages(field_errors(rid).get("reel"))


def _on_reload(rid: int) -> None:
    """Show the stored draft: widgets re-seed from the database; the unsaved texts stay on screen."""
    kept = st.session_state.get("c_conflicts", {}).get(rid)
    forget_widgets(rid)
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
    seed_widget(rkey(rid, "mode"), reel.mode)
    row.segmented_control("Mode", validation.MODES, key=rkey(rid, "mode"), format_func=MODE_LABELS.get,
                          required=True, disabled=not editable, on_change=on_mode, args=(env, rid),
                          help=MODE_HELP)
    seed_widget(rkey(rid, "aspect"), reel.aspect_ratio)
    row.selectbox("Aspect ratio", validation.ASPECT_RATIOS, key=rkey(rid, "aspect"), disabled=not editable,
                  on_change=on_edit, args=(env, rid), width=110)
    seed_widget(rkey(rid, "resolution"), reel.resolution)
    row.selectbox("Resolution", validation.RESOLUTIONS, key=rkey(rid, "resolution"), disabled=not editable,
                  format_func=RESOLUTION_LABELS.get, on_change=on_edit, args=(env, rid), width=110)
    seed_widget(rkey(rid, "engine"), reel.engine)
    row.selectbox("Engine", validation.ENGINES, key=rkey(rid, "engine"), disabled=not editable,
                  format_func=validation.ENGINE_LABELS.get, on_change=on_edit, args=(env, rid), width=130,
                  help="HeyGen's avatar engine; it sets the price per second and which looks fit.")
    seed_widget(rkey(rid, "captions"), reel.captions)
    row.toggle("Captions", key=rkey(rid, "captions"), disabled=not editable, on_change=on_edit,
               args=(env, rid), help="Also produce an SRT subtitle file and a captioned video.")
    for field in ("mode", "aspect_ratio", "resolution", "engine", "captions", "title", "scenes"):
        field_messages(by_field.get(field))


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
                      width="stretch", disabled=bool(blocker), on_click=on_launch_request, args=(env, rid, live),
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
        summary.breakdown(reel, env.index, estimate, measured, look_name=lambda i: look_name(env, i),
                          voice_name=lambda i: voice_name(env, i))


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
                   icon=":material/rocket_launch:", on_click=on_launch_click, args=(env, reel.id))
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
