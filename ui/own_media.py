"""Own media in the UI: a scene's own recording (Compose), "My media" (Compose), "Create from a
photo" (Avatars) and "Clone a voice" (Voices).

Pages hook in with one call each; everything here reads and writes through :mod:`core.reels.own_media`.
Files are checked and kept first, then uploaded in the page run with a progress bar, so a failed
upload leaves the draft and the file in place with a "Retry upload" button (which re-sends the same
Idempotency-Key: never a second HeyGen asset). User text (file names, avatar and voice names) is
shown as text, never as Markdown.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
import streamlit as st

from core.access.actor import SYSTEM, Actor
from core.access.permissions import Action, PermissionDenied, denial
from core.db import session_scope
from core.heygen.errors import HeyGenError
from core.models import MediaAsset
from core.reels import own_media
from core.reels.media_checks import CLONE_RECOMMENDED_S, PHOTO_MIN_PX, MediaRejected
from ui.frame import FrameContext
from ui.text import plain

#: Seconds between status checks while a photo avatar trains or a voice clone is processed.
TRAINING_POLL_S = 2.0
VOICE_CHOICES = {"voice": "HeyGen voice", "audio": "Own audio"}
SCRIPT_LABEL = "Caption or note (optional)"
SCRIPT_PLACEHOLDER = "What is said in the recording, or a note for the team…"
SCRIPT_HELP = "Not spoken: the recording is this scene's audio, and its length sets the scene's length."
_PURPOSE_LABELS = {"scene_audio": "Scene recording", "voice_sample": "Voice sample", "photo": "Photo"}


@dataclass(frozen=True)
class MediaEnv:
    """What own-media widgets need: database, HeyGen client, data folder, catalog store and the actor."""

    factory: Any
    client: Any
    data_dir: Path
    catalog: Any
    actor: Actor


def media_env(ctx: FrameContext) -> MediaEnv:
    """The own-media environment of a page (the actor is the signed-in user or the sidebar name)."""
    rt = ctx.runtime
    return MediaEnv(rt.session_factory, rt.client, Path(ctx.settings.data_dir), rt.catalog, ctx.actor)


def _size(n: int) -> str:
    return f"{n / 1_048_576:.1f} MB" if n >= 1_048_576 else f"{max(1, round(n / 1024))} KB"


def _facts(row: MediaAsset) -> str:
    parts = [row.format.upper(), _size(row.size_bytes)]
    if row.duration_s is not None:
        parts.append(f"{row.duration_s:.1f} s")
    if row.width:
        parts.append(f"{row.width} × {row.height} px")
    return " · ".join(parts)


def _notes(key: str) -> dict[str, list[str]]:
    return st.session_state.setdefault("m_notes", {}).setdefault(key, {"error": [], "warning": []})


def _show_notes(key: str) -> None:
    notes = st.session_state.get("m_notes", {}).pop(key, None) or {}
    for text in notes.get("error", []):  # the sentences quote file names: shown as text
        st.error(plain(text), icon=":material/error:")
    for text in notes.get("warning", []):
        st.warning(plain(text), icon=":material/warning:")


def keep_file(env: MediaEnv, widget_key: str, purpose: str, notes_key: str) -> int | None:
    """Check and keep the file in widget ``widget_key`` (an ``UploadedFile``); returns its media id.

    Problems and warnings are recorded for :func:`_show_notes` under ``notes_key``.
    """
    file = st.session_state.get(widget_key)
    if file is None:
        return None
    notes = _notes(notes_key)
    try:
        with session_scope(env.factory) as s:
            row, warnings = own_media.store_media(s, env.data_dir, file.getvalue(), file.name, purpose=purpose,
                                                  actor=env.actor)
            media_id = row.id
    except (MediaRejected, own_media.MediaError, PermissionDenied) as exc:
        notes["error"].append(str(exc))
        return None
    notes["warning"].extend(warnings)
    return media_id


def send_pending(env: MediaEnv, media_id: int) -> MediaAsset | None:
    """Upload the file if it has not reached HeyGen yet, with a progress bar, then rerun the page (so
    checks drawn above see the new state); returns the row."""
    with session_scope(env.factory) as s:
        row = s.get(MediaAsset, media_id)
        may_send = row is not None and (row.owner == env.actor.name or env.actor.role == "admin")
        if row is None or row.upload_status != "pending" or not may_send:
            if row is not None:
                s.expunge(row)
            return row  # someone else's file waits for its owner
        bar = st.progress(0.0, text=f"Uploading {plain(row.name)} to HeyGen…")
        try:
            own_media.upload_media(s, env.client, env.data_dir, row, actor=env.actor,
                                   progress=lambda sent, total: bar.progress(min(1.0, sent / max(total, 1))))
        except own_media.MediaError:
            pass  # the row now says failed, with the reason; the rerun shows it
        finally:
            bar.empty()
    st.rerun()


def _retry(env: MediaEnv, media_id: int, notes_key: str) -> None:
    try:
        with session_scope(env.factory) as s:
            row = own_media.get_media(s, media_id, owner=env.actor.name)
            own_media.upload_media(s, env.client, env.data_dir, row, actor=env.actor)
    except (own_media.MediaError, PermissionDenied) as exc:
        _notes(notes_key)["error"].append(str(exc))


def upload_state(env: MediaEnv, row: MediaAsset, notes_key: str) -> None:
    """The file's upload state: a check mark, or the failure with "Retry upload"."""
    if row.upload_status == "uploaded":
        st.caption(f":material/cloud_done: At HeyGen · {_facts(row)}")
    elif row.upload_status == "failed":
        st.error(plain(f"The upload did not reach HeyGen: {row.upload_error or 'no reason given'} Your draft is "
                       "kept."), icon=":material/cloud_off:")
        st.button("Retry upload", key=f"m_retry_{notes_key}_{row.id}", icon=":material/refresh:",
                  on_click=_retry, args=(env, row.id, notes_key))
    else:
        st.caption(f":material/cloud_upload: Waiting to upload · {_facts(row)}")


# ---------------------------------------------------------------------------------------------- Compose: a scene


def scene_audio_key(rid: int, n: int) -> str:
    """Session key of a scene's own-recording media id."""
    return f"c_r{rid}_s{n}_audio"


def scene_mode_key(rid: int, n: int) -> str:
    """Session key of a scene's voice source (``voice`` or ``audio``)."""
    return f"c_r{rid}_s{n}_vmode"


def scene_audio_ref(rid: int, n: int, scene: Any) -> int | None:
    """The media id the scene should speak as the widgets show it (``None``: a HeyGen voice)."""
    ss = st.session_state
    mode = ss.get(scene_mode_key(rid, n), "audio" if scene.audio_asset_ref else "voice")
    return ss.get(scene_audio_key(rid, n), scene.audio_asset_ref) if mode == "audio" else None


def voice_source(rid: int, n: int, scene: Any, editable: bool, on_change: Callable, args: tuple) -> bool:
    """The "HeyGen voice / Own audio" switch of a scene; True when the scene speaks own audio."""
    key = scene_mode_key(rid, n)
    if key not in st.session_state:
        st.session_state[key] = "audio" if scene.audio_asset_ref else "voice"
    st.segmented_control("Voice", list(VOICE_CHOICES), key=key, format_func=VOICE_CHOICES.get,
                         disabled=not editable, on_change=on_change, args=args, required=True,
                         help="A HeyGen voice reads the script; own audio is a recording you upload or make here.")
    return st.session_state.get(key) == "audio"


def _take_scene_file(env: MediaEnv, rid: int, n: int, widget_key: str, save: Callable[[], Any]) -> None:
    media_id = keep_file(env, widget_key, "scene_audio", f"scene-{rid}-{n}")
    if media_id is not None:
        st.session_state[scene_audio_key(rid, n)] = media_id
        save()


def scene_audio(env: MediaEnv, rid: int, n: int, scene: Any, editable: bool, save: Callable[[], Any]) -> None:
    """A scene's own recording: upload or record, listen back, its length and upload state."""
    notes_key = f"scene-{rid}-{n}"
    media_id = scene_audio_ref(rid, n, scene)
    row = send_pending(env, media_id) if media_id else None
    if row is not None:
        kept = own_media.local_file(row, env.data_dir)
        if kept.is_file():
            st.audio(kept.read_bytes(), format=row.mime_type)
        st.text(row.name)
        upload_state(env, row, notes_key)
    if editable:
        label = "Replace the recording" if row is not None else "Add a recording"
        with st.expander(label, expanded=row is None, icon=":material/mic:"):
            upload, record = st.tabs(["Upload a file", "Record here"])
            up_key, rec_key = f"c_r{rid}_s{n}_upl", f"c_r{rid}_s{n}_rec"
            upload.file_uploader("WAV or MP3, up to 32 MB and 10 minutes", type=["wav", "mp3"], key=up_key,
                                 max_upload_size=40, on_change=_take_scene_file, args=(env, rid, n, up_key, save))
            record.audio_input("Record this scene's line", key=rec_key, on_change=_take_scene_file,
                               args=(env, rid, n, rec_key, save))
    _show_notes(notes_key)


def scene_audio_seconds(env: MediaEnv, media_id: int | None) -> float | None:
    """Measured length in seconds of a scene's recording, or ``None``."""
    if not media_id:
        return None
    with closing(env.factory()) as s:
        row = s.get(MediaAsset, media_id)
        return row.duration_s if row is not None else None


# ---------------------------------------------------------------------------------------------- My media


def _delete(env: MediaEnv, media_id: int) -> None:
    try:
        with session_scope(env.factory) as s:
            own_media.delete_media(s, env.client, env.data_dir, media_id, actor=env.actor)
    except (own_media.MediaError, HeyGenError, PermissionDenied) as exc:
        _notes("my-media")["error"].append(str(exc))
    else:
        st.session_state["m_deleted"] = True


def my_media(env: MediaEnv) -> None:
    """The "My media" list: each file with its type, size, where it is used, and Delete."""
    with closing(env.factory()) as s:
        rows = own_media.list_media(s, owner=env.actor.name)
        used = own_media.usage(s, [r.id for r in rows])
        for r in rows:
            s.expunge(r)
    with st.expander(f"My media ({len(rows)})", icon=":material/perm_media:"):
        _show_notes("my-media")
        if st.session_state.pop("m_deleted", False):
            st.success("Deleted.", icon=":material/delete:")
        if not rows:
            st.caption("Recordings, voice samples and photos you add appear here.")
            return
        table = pd.DataFrame([{
            "File": r.name, "For": _PURPOSE_LABELS[r.purpose], "Details": _facts(r),
            "Made into": r.label or "—",
            "Used in": ", ".join(f"{u.title} (scene {u.scene_number}, {u.status})" for u in used.get(r.id, []))
                       or "—",
            "At HeyGen": {"uploaded": "yes", "failed": "upload failed", "pending": "not yet"}[r.upload_status],
        } for r in rows])
        st.dataframe(table, hide_index=True, width="stretch")
        choice = st.selectbox("File", [r.id for r in rows], key="m_pick", label_visibility="collapsed",
                              format_func={r.id: f"{r.name} · {_facts(r)}" for r in rows}.get)
        st.button("Delete this file", key="m_delete", icon=":material/delete:", on_click=_delete,
                  args=(env, choice), help="Also deletes it at HeyGen. Refused while a queued or rendering "
                                           "reel uses it; drafts that use it lose the recording.")


# ---------------------------------------------------------------------------------------------- training


def _refresh_all(env: MediaEnv) -> bool:
    """Poll every photo avatar and clone still in training; True when one changed."""
    changed = False
    with session_scope(env.factory) as s:
        for row in own_media.in_training(s, owner=env.actor.name):
            try:
                changed = own_media.refresh_training(s, env.client, row, actor=env.actor) or changed
            except (HeyGenError, PermissionDenied):
                continue  # shown as still in training; the next poll tries again
    if changed and env.catalog is not None:
        with contextlib.suppress(HeyGenError):  # a finished look or voice joins the catalog: Reel Studio
            env.catalog.get(refresh=True, actor=SYSTEM)  # refreshes it because HeyGen said so, not the user
    return changed


def _made(env: MediaEnv, purpose: str) -> list[MediaAsset]:
    with closing(env.factory()) as s:
        rows = [r for r in own_media.list_media(s, owner=env.actor.name, purpose=purpose) if r.heygen_id]
        for r in rows:
            s.expunge(r)
    return rows


_STATUS_TEXT = {"processing": ":material/hourglass_top: Training…", "pending_consent":
                ":material/how_to_reg: Waiting for consent", "completed": ":material/check_circle: Ready",
                "complete": ":material/check_circle: Ready", "failed": ":material/error: Failed"}


def training_list(env: MediaEnv, purpose: str, what: str) -> None:
    """The user's photo avatars or voice clones with their state; refreshes itself while one trains."""
    rows = _made(env, purpose)
    if not rows:
        return
    busy = any(r.training_status not in own_media.FINAL_TRAINING for r in rows)

    @st.fragment(run_every=TRAINING_POLL_S if busy else None)
    def states() -> None:
        if busy and _refresh_all(env):
            st.rerun()
        for row in _made(env, purpose):
            with st.container(border=True, horizontal=True, vertical_alignment="center"):
                st.text(row.label)
                st.markdown(_STATUS_TEXT.get(row.training_status or "", row.training_status or "—"))
                if row.training_status == "failed":
                    st.text(f"HeyGen: {row.training_error}")
                if row.training_status == "pending_consent" and row.consent_url:
                    st.link_button("Open the consent page", row.consent_url, icon=":material/open_in_new:")
                if row.training_status in ("completed", "complete"):
                    st.caption(f"A private {what} in the catalog")

    states()


def form_key(form: str, name: str) -> str:
    """Key of a field of a create form; a new generation after each success empties the form."""
    return f"{form}_{name}_{st.session_state.get(f'{form}_gen', 0)}"


def _next_form(form: str) -> None:
    st.session_state[f"{form}_gen"] = st.session_state.get(f"{form}_gen", 0) + 1


def _create_avatar(env: MediaEnv) -> None:
    ss = st.session_state
    ss.pop("m_av_done", None)
    name, consent = ss.get(form_key("m_av", "name"), ""), ss.get(form_key("m_av", "consent"), False)
    if not ss.get(form_key("m_av", "file")):
        _notes("avatar")["error"].append("Choose a photo first.")
        return
    media_id = keep_file(env, form_key("m_av", "file"), "photo", "avatar")
    if media_id is None:
        return
    try:
        with session_scope(env.factory) as s:
            row = own_media.get_media(s, media_id, owner=env.actor.name)
            own_media.start_photo_avatar(s, env.client, env.data_dir, row, name, consent=consent, actor=env.actor)
    except (own_media.MediaError, HeyGenError, PermissionDenied) as exc:
        _notes("avatar")["error"].append(str(exc))
        return
    _next_form("m_av")
    st.session_state["m_av_done"] = name


def photo_avatars(ctx: FrameContext) -> None:
    """Avatars page: "Create from a photo" and the user's photo avatars with their training state.

    Always draws the same two outer elements (an expander and a container), so URL-bound widgets
    below keep their positions whatever is inside.
    """
    env = media_env(ctx)
    with st.expander("Create from a photo", icon=":material/add_a_photo:"):
        reason = denial(ctx.actor, Action.USE_OWN_MEDIA)
        if reason:
            st.info(plain(reason), icon=":material/badge:")
            return
        st.caption(f"A clear, front-facing photo of one person; PNG or JPEG, at least {PHOTO_MIN_PX} × "
                   f"{PHOTO_MIN_PX} px, up to 32 MB. HeyGen trains it into a private photo avatar.")
        st.file_uploader("Photo", type=["png", "jpg", "jpeg"], key=form_key("m_av", "file"), max_upload_size=40)
        st.text_input("Avatar name", key=form_key("m_av", "name"), max_chars=200,
                      placeholder="e.g. Ana at the office")
        st.checkbox("The person in this photo agreed to become an avatar", key=form_key("m_av", "consent"))
        st.button("Create photo avatar", key="m_av_create", type="primary", icon=":material/face:",
                  on_click=_create_avatar, args=(env,))
        _show_notes("avatar")
        if st.session_state.get("m_av_done"):  # kept until the next create: a finished training reruns the page
            st.success("Training started — it appears in the gallery when it is ready.", icon=":material/school:")
    with st.container():
        training_list(env, "photo", "avatar look")


def _create_clone(env: MediaEnv) -> None:
    ss = st.session_state
    ss.pop("m_vc_done", None)
    name = ss.get(form_key("m_vc", "name"), "")
    recorded = form_key("m_vc", "rec")
    source = recorded if ss.get(recorded) is not None else form_key("m_vc", "file")
    if ss.get(source) is None:
        _notes("clone")["error"].append("Upload or record a voice sample first.")
        return
    media_id = keep_file(env, source, "voice_sample", "clone")
    if media_id is None:
        return
    try:
        with session_scope(env.factory) as s:
            row = own_media.get_media(s, media_id, owner=env.actor.name)
            own_media.start_voice_clone(s, env.client, env.data_dir, row, name, actor=env.actor)
    except (own_media.MediaError, HeyGenError, PermissionDenied) as exc:
        _notes("clone")["error"].append(str(exc))
        return
    _next_form("m_vc")
    st.session_state["m_vc_done"] = name


def voice_clones(ctx: FrameContext) -> None:
    """Voices page: "Clone a voice" and the user's clones with their state (same outer elements on
    every run, as :func:`photo_avatars`)."""
    env = media_env(ctx)
    low, high = CLONE_RECOMMENDED_S
    with st.expander("Clone a voice", icon=":material/voice_selection:"):
        reason = denial(ctx.actor, Action.USE_OWN_MEDIA)
        if reason:
            st.info(plain(reason), icon=":material/badge:")
            return
        st.caption(f"Recommended: {low:.0f} s to {high / 60:.0f} min of clear speech by one person, without music "
                   "or background noise (10 s – 5 min accepted). WAV or MP3, up to 32 MB.")
        upload, record = st.tabs(["Upload a sample", "Record here"])
        upload.file_uploader("Voice sample", type=["wav", "mp3"], key=form_key("m_vc", "file"), max_upload_size=40)
        record.audio_input("Record a sample", key=form_key("m_vc", "rec"))
        st.text_input("Voice name", key=form_key("m_vc", "name"), max_chars=200, placeholder="e.g. Ana (warm)")
        st.button("Clone voice", key="m_vc_create", type="primary", icon=":material/record_voice_over:",
                  on_click=_create_clone, args=(env,))
        _show_notes("clone")
        if st.session_state.get("m_vc_done"):  # kept until the next clone, as for photo avatars
            st.success("Cloning started — the voice appears in the catalog when it is ready.",
                       icon=":material/school:")
    with st.container():
        training_list(env, "voice_sample", "voice")
