"""Compose's "Draft from a topic" panel and each scene's script history.

Drafting: fields (topic, audience, tone, language, target length, scenes) asks the chat model for three
variations (:mod:`core.reels.script_model`); they are shown side by side with their estimated length and cost,
and one fills the open draft's scenes (or a new draft), or is revised with a short instruction. The last
result lives in ``session_state["sd_r<id>_result"]`` until it is used or replaced.

History: a toggle under each scene's script lists the scene's versions; one is shown with a diff against
the current text and can be restored in one click (the restore is a version too).

Model text and scripts are shown as text, never as Markdown.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable
from contextlib import closing
from typing import Any

import streamlit as st

from core.access.conflicts import EditConflict
from core.access.permissions import PermissionDenied
from core.board.text import format_seconds, human_ago
from core.catalog.normalise import normalise_language
from core.db import session_scope
from core.models import Reel, utcnow
from core.reels import drafts
from core.reels import versions as script_versions
from core.reels.estimate import estimate_script_seconds
from core.reels.script_drafts import (
    AUDIENCE_MAX_CHARS,
    INSTRUCTION_MAX_CHARS,
    TARGET_MAX_S,
    TARGET_MIN_S,
    TONE_MAX_CHARS,
    TOPIC_MAX_CHARS,
    DraftBrief,
    DraftError,
    Variation,
    apply_variation,
    language_warning,
    variation_estimate,
    variation_seconds,
)
from core.reels.script_model import ModelConfig, ScriptDrafter
from core.reels.validation import STUDIO_MAX_SCENES, ReelError
from ui.text import plain

log = logging.getLogger(__name__)

SOURCE_LABELS = {"edit": "edited", "draft": "draft from a topic", "restore": "restored", "created": "created",
                 "import": "before history began"}
def _key(rid: int, name: str) -> str:
    return f"sd_r{rid}_{name}"


# --------------------------------------------------------------------------------------------
# Drafting
# --------------------------------------------------------------------------------------------


def _languages(env: Any) -> list[str]:
    return sorted({str(v) for v in env.voices["language"].dropna().unique() if str(v).strip()})


def _scene_voices(env: Any, reel: Reel) -> list[tuple[str, str]]:
    out = []
    for scene in sorted(reel.scenes, key=lambda s: s.position):
        voice = env.index.voice(scene.voice_id) if scene.voice_id else None
        if voice is not None:
            out.append((str(voice.name or scene.voice_id).strip(), normalise_language(voice.language)))
    return out


def _brief(rid: int, reel: Reel) -> DraftBrief:
    ss = st.session_state
    count = int(ss.get(_key(rid, "scenes"), len(reel.scenes)) or 1)
    speeds = [float(s.speed) for s in sorted(reel.scenes, key=lambda s: s.position)] or [1.0]
    speeds += [speeds[-1]] * max(0, count - len(speeds))
    return DraftBrief(topic=ss.get(_key(rid, "topic"), ""), audience=ss.get(_key(rid, "audience"), ""),
                      tone=ss.get(_key(rid, "tone"), ""), language=ss.get(_key(rid, "language"), "English"),
                      target_seconds=float(ss.get(_key(rid, "seconds"), 60)), scenes=count, speeds=tuple(speeds))


def _ask(model: ModelConfig, call: Callable[[ScriptDrafter], Any]) -> tuple[Any, str | None]:
    """``call(drafter)`` and its result, or ``None`` and the one-sentence reason."""
    drafter = ScriptDrafter(model)
    try:
        return call(drafter), None
    except DraftError as exc:
        return None, str(exc)
    except Exception:  # never a traceback (nor an SDK message) on the page
        log.error("script draft failed unexpectedly")  # no exception text: it may quote the server
        return None, "Drafting failed unexpectedly; try again."
    finally:
        drafter.close()


def _on_draft(env: Any, rid: int, reel: Reel, model: ModelConfig) -> None:
    """The click only records the request; the page body runs it under a spinner (:func:`_run_pending`)."""
    st.session_state[_key(rid, "pending")] = {"task": "draft", "brief": dataclasses.asdict(_brief(rid, reel))}


def _on_revise(env: Any, rid: int, number: int, model: ModelConfig) -> None:
    ss = st.session_state
    if ss.get(_key(rid, "result")):
        ss[_key(rid, "pending")] = {"task": "revise", "number": number,
                                    "instruction": ss.get(_key(rid, f"instruction_{number}"), "")}


def _brief_of(doc: dict[str, Any]) -> DraftBrief:
    return DraftBrief(**{**doc, "speeds": tuple(doc["speeds"])})


def _run_pending(rid: int, model: ModelConfig) -> None:
    """Ask the model for what the last click requested (draft or revise), showing a spinner meanwhile."""
    ss = st.session_state
    pending = ss.pop(_key(rid, "pending"), None)
    if not pending:
        return
    if pending["task"] == "draft":
        brief = _brief_of(pending["brief"])
        with st.spinner("Writing three variations…"):
            variations, error = _ask(model, lambda d: d.draft(brief))
        ss[_key(rid, "result")] = {"brief": pending["brief"], "error": error, "sandbox": model.sandbox,
                                   "variations": [v.model_dump() for v in variations or []]}
        return
    result = dict(ss[_key(rid, "result")])
    number = pending["number"]
    original = Variation.model_validate(result["variations"][number])
    with st.spinner("Revising the variation…"):
        revised, error = _ask(model, lambda d: d.revise(_brief_of(result["brief"]), original, pending["instruction"]))
    result["error"] = error
    if revised is not None:
        result["variations"] = [*result["variations"]]
        result["variations"][number] = revised.model_dump()
        ss[_key(rid, f"instruction_{number}")] = ""
    ss[_key(rid, "result")] = result


def _on_use(env: Any, rid: int, number: int, new_draft: bool, expected_version: int | None,
            on_applied: Callable[[int | None], None]) -> None:
    ss = st.session_state
    result = ss.get(_key(rid, "result"))
    if not result:
        return
    brief = _brief_of(result["brief"])
    variation = Variation.model_validate(result["variations"][number])
    try:
        with session_scope(env.factory) as s:
            reel = apply_variation(s, variation, brief, actor=env.actor, reel_id=None if new_draft else rid,
                                   expected_version=None if new_draft else expected_version)
            target = reel.id
    except (ReelError, PermissionDenied, EditConflict) as exc:
        result["error"] = str(exc)
        return
    ss.pop(_key(rid, "result"), None)
    on_applied(target)
    count = len(variation.scenes)
    where = f"new draft #{target}" if new_draft else "this draft"
    st.toast(f"Filled {count} scene{'s' * (count != 1)} of {where}; earlier scripts are in each scene's history.",
             icon=":material/auto_awesome:")


def topic_panel(env: Any, reel: Reel, model: ModelConfig | None, *, expected_version: int | None,
                on_applied: Callable[[int | None], None]) -> None:
    """The "Draft from a topic" expander of draft ``reel``; ``on_applied(reel_id)`` runs after a variation
    filled a reel's scenes (to re-seed the scene widgets and open it)."""
    rid = reel.id
    result = st.session_state.get(_key(rid, "result"))
    with st.expander("Draft from a topic", icon=":material/auto_awesome:", expanded=bool(result)):
        if model is None:
            st.info("Set LLM_MODEL (with LLM_BASE_URL and LLM_API_KEY) to draft scripts from a topic; see the "
                    "README's settings.", icon=":material/key:")
            return
        _brief_form(env, reel, model)
        _run_pending(rid, model)
        result = st.session_state.get(_key(rid, "result"))
        if result:
            _results(env, reel, result, model, expected_version, on_applied)


def _brief_form(env: Any, reel: Reel, model: ModelConfig) -> None:
    rid, ss = reel.id, st.session_state
    languages = _languages(env)
    voices = _scene_voices(env, reel)
    if _key(rid, "language") not in ss:
        first = voices[0][1] if voices else "English"
        ss[_key(rid, "language")] = first if first in languages else ("English" if "English" in languages
                                                                       else languages[0])
    ss.setdefault(_key(rid, "scenes"), len(reel.scenes))
    estimate = sum(estimate_script_seconds(s.script, s.speed) for s in reel.scenes)
    ss.setdefault(_key(rid, "seconds"), int(min(max(round(estimate) or 60, TARGET_MIN_S), TARGET_MAX_S)))
    st.text_area("Topic", key=_key(rid, "topic"), max_chars=TOPIC_MAX_CHARS, height=80,
                 placeholder="What the reel is about, e.g. “how to book a table in our app”")
    who, tone = st.columns(2)
    who.text_input("Audience", key=_key(rid, "audience"), max_chars=AUDIENCE_MAX_CHARS,
                   placeholder="e.g. first-time customers")
    tone.text_input("Tone", key=_key(rid, "tone"), max_chars=TONE_MAX_CHARS, placeholder="e.g. warm, upbeat")
    lang, seconds, scenes = st.columns([1.4, 1, 1])
    lang.selectbox("Language", languages, key=_key(rid, "language"))
    seconds.number_input("Target length (s)", min_value=int(TARGET_MIN_S), max_value=int(TARGET_MAX_S),
                         step=5, key=_key(rid, "seconds"),
                         help="The whole reel, at the scenes' voice speeds (about 150 words per minute).")
    scenes.number_input("Scenes", min_value=1, max_value=STUDIO_MAX_SCENES, step=1, key=_key(rid, "scenes"),
                        help="A scene-based reel has 3; any other number makes it a studio reel.")
    warning = language_warning(ss.get(_key(rid, "language"), ""), voices)
    if warning:
        st.warning(warning, icon=":material/translate:")
    st.button("Write three variations", icon=":material/auto_awesome:", type="primary", key=_key(rid, "ask"),
              on_click=_on_draft, args=(env, rid, reel, model))


def _results(env: Any, reel: Reel, result: dict[str, Any], model: ModelConfig, expected_version: int | None,
             on_applied: Callable[[int | None], None]) -> None:
    rid = reel.id
    if result.get("error"):
        st.error(result["error"], icon=":material/error:")
    if not result["variations"]:
        return
    brief = _brief_of(result["brief"])
    columns = st.columns(len(result["variations"]), gap="small")
    for number, (column, raw) in enumerate(zip(columns, result["variations"], strict=True)):
        variation = Variation.model_validate(raw)
        with column, st.container(border=True, key=_key(rid, f"variation_{number}")):
            _variation_card(env, reel, brief, variation, number, result["sandbox"], model, expected_version,
                            on_applied)


def _variation_card(env: Any, reel: Reel, brief: DraftBrief, variation: Variation, number: int, sandbox: bool,
                    model: ModelConfig, expected_version: int | None,
                    on_applied: Callable[[int | None], None]) -> None:
    rid = reel.id
    st.markdown(f"**{plain(variation.title or f'Variation {number + 1}')}**")
    try:
        estimate = variation_estimate(reel, env.index, variation, brief)
        cost = f"${estimate.cost_usd:,.2f}"
    except ValueError:
        estimate, cost = None, "—"
    length = format_seconds(estimate.duration_s if estimate else sum(variation_seconds(variation, brief)))
    badge = " · :orange-badge[sandbox draft]" if sandbox else ""
    st.caption(f"about {length} · {cost} · {len(variation.scenes)} scenes{badge}")
    seconds = variation_seconds(variation, brief)
    with st.container(height=260, border=False):
        for n, (script, secs) in enumerate(zip(variation.scripts, seconds, strict=True), start=1):
            st.caption(f"Scene {n} · about {secs:.0f} s")
            st.text(script)
    st.button("Use in this draft", key=_key(rid, f"use_{number}"), type="primary", icon=":material/check:",
              width="stretch", on_click=_on_use, args=(env, rid, number, False, expected_version, on_applied),
              help="Fill this draft's scenes with these scripts; earlier scripts stay in each scene's history.")
    st.button("Use in a new draft", key=_key(rid, f"new_{number}"), icon=":material/add:", width="stretch",
              on_click=_on_use, args=(env, rid, number, True, None, on_applied))
    with st.container(horizontal=True, vertical_alignment="bottom"):
        st.text_input("How to revise it", key=_key(rid, f"instruction_{number}"), max_chars=INSTRUCTION_MAX_CHARS,
                      placeholder="e.g. shorter, more formal", label_visibility="collapsed")
        st.button("Revise", key=_key(rid, f"revise_{number}"), icon=":material/edit:",
                  on_click=_on_revise, args=(env, rid, number, model))


# --------------------------------------------------------------------------------------------
# History
# --------------------------------------------------------------------------------------------


def history_counts(env: Any, rid: int) -> dict[str, int]:
    """``{scene uid: number of script versions}`` of reel ``rid`` (one query)."""
    with closing(env.factory()) as s:
        return script_versions.history_counts(s, rid)


def _version_label(version: Any, number: int, now: Any) -> str:
    what = SOURCE_LABELS.get(version.source, version.source)
    who = version.actor or "someone"
    return f"v{number} · {human_ago(version.at, now)} · {who} · {what}"


def _on_restore(env: Any, rid: int, version_id: int, expected_version: int | None,
                on_restored: Callable[[int | None], None]) -> None:
    try:
        with session_scope(env.factory) as s:
            drafts.restore_script(s, rid, version_id, actor=env.actor, expected_version=expected_version)
    except (ReelError, LookupError, PermissionDenied, EditConflict) as exc:
        st.session_state[_key(rid, "history_error")] = str(exc)
        return
    st.session_state.pop(_key(rid, "history_error"), None)
    on_restored(rid)
    st.toast("Restored: the scene's script is that version again (and the restore is in its history).",
             icon=":material/history:")


def scene_history(env: Any, reel: Reel, scene: Any, editable: bool, count: int, *, expected_version: int | None,
                  on_restored: Callable[[int | None], None]) -> None:
    """A "History" toggle under a scene's script; when on: its versions, a diff against the current text,
    and Restore. ``count`` is the scene's number of versions; ``on_restored(reel_id)`` re-seeds widgets."""
    rid = reel.id
    key = _key(rid, f"history_{scene.uid}")
    if not st.toggle(f"History ({count})", key=key, disabled=count == 0,
                     help="Every saved text of this scene's script." if count else "No saved text yet."):
        return
    with closing(env.factory()) as s:
        versions = script_versions.scene_history(s, rid, scene.uid)
    if not versions:
        return
    now = utcnow()
    total = count
    labels = {v.id: _version_label(v, total - i, now) for i, v in enumerate(versions)}
    with st.container(border=True):
        chosen = st.selectbox("Version", list(labels), key=f"{key}_pick", format_func=labels.get,
                              index=min(1, len(versions) - 1))
        version = next(v for v in versions if v.id == chosen)
        if version.label:
            st.caption(plain(version.label))
        current = scene.script or ""
        diff = script_versions.diff_text(current, version.text)
        if diff:
            st.caption("Changes from the current text to this version (− current, + this version):")
            st.code(diff, language="diff", wrap_lines=True)
        else:
            st.caption("This version is the current text.")
        st.button("Restore this version", key=f"{key}_restore", icon=":material/history:",
                  disabled=not editable or not diff, on_click=_on_restore, args=(env, rid, version.id, expected_version, on_restored))
        error = st.session_state.get(_key(rid, "history_error"))
        if error:
            st.caption(f":red[:material/error: {plain(error)}]")
