"""The Settings page: mode, API key check, credit, catalog refresh, storage, archive, worker, script drafts and
webhooks.

Settings themselves come from environment variables or ``.streamlit/secrets.toml`` (see the
README); this page shows what is in force and offers the actions that need a person.
Secrets never appear: the key is masked, URLs lose their passwords, and a webhook signing
secret is shown once, right after HeyGen issues it.
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from core import config
from core.access.actor import Actor
from core.access.permissions import Action, PermissionDenied, denial
from core.board.text import human_ago
from core.board.videos import human_size
from core.config import SANDBOX_API_KEY, mask_secret
from core.heygen.errors import HeyGenError
from core.jobs import archive as jobs_archive
from core.jobs import archiver, lease, webhooks
from core.runtime import Runtime
from ui.data import catalog_view, loaded_catalog
from ui.frame import FrameContext, account_summary
from ui.people import people_section
from ui.text import plain
from ui.workspaces import settings_section

_KEY_CHECK = "set_key_check"
_SECRET = "set_new_secret"
_WEBHOOK_NOTICE = "set_webhook_notice"


# --------------------------------------------------------------------------- mode and key


def check_key(client) -> tuple[bool, str]:
    """``GET /v3/users/me`` → ``(ok, one sentence for the person)``."""
    try:
        me = client.get_current_user()
    except HeyGenError as exc:
        return False, str(exc)
    who = me.email or me.username
    plan = f" ({me.billing_type})" if me.billing_type else ""
    return True, f"The key works: account {who}{plan}, remaining credit {me.balance_text}."


def _on_check_key(runtime: Runtime) -> None:
    st.session_state[_KEY_CHECK] = check_key(runtime.client)


def _mode(ctx: FrameContext) -> None:
    settings, runtime = ctx.settings, ctx.runtime
    st.subheader("Mode", anchor=False)
    if settings.sandbox:
        st.badge("SANDBOX", icon=":material/science:", color="orange")
        st.markdown(
            "No `HEYGEN_API_KEY` is set, so Reel Studio talks to its **built-in sandbox**, a local copy of "
            f"HeyGen's v3 API at `{runtime.base_url}` with HeyGen's real voice and avatar catalog. Renders are "
            "local placeholder videos and cost nothing. To make real videos, set `HEYGEN_API_KEY` (environment "
            "or `[heygen] api_key` in `.streamlit/secrets.toml`) and restart the app.")
    else:
        st.badge("LIVE", icon=":material/bolt:", color="green")
        st.markdown(
            f"`HEYGEN_API_KEY` is set: reels are rendered by HeyGen at `{runtime.base_url}` and **billed to your "
            "account** when they complete. Remove the key and restart to go back to the sandbox.")
    key = mask_secret(SANDBOX_API_KEY) if settings.sandbox else settings.masked_api_key
    c1, c2 = st.columns([2, 1], vertical_alignment="bottom")
    c1.text_input("API key", value=key, disabled=True, key="set_key_masked",
                  help="Masked; the key itself is never shown, logged or stored by Reel Studio")
    c2.button("Check key", key="set_check_key", icon=":material/key:", on_click=_on_check_key, args=(runtime,),
              help="Calls GET /v3/users/me once", width="stretch")
    result = st.session_state.get(_KEY_CHECK)
    if result:
        ok, sentence = result
        (st.success if ok else st.error)(sentence, icon=":material/check_circle:" if ok else ":material/error:")
    balance, account = account_summary(runtime, settings.mode)
    st.metric("Credit" + (" (sandbox)" if settings.sandbox else ""), balance,
              help=f"Account: {account} · refreshed every 2 minutes" if account else None)


# --------------------------------------------------------------------------- catalog


def _catalog(ctx: FrameContext) -> None:
    runtime = ctx.runtime
    st.subheader("Catalog", anchor=False)
    hours = ctx.settings.catalog_cache_hours
    st.caption(f"Voices and avatar looks are cached for {hours:g} hours (CATALOG_CACHE_HOURS), so pages open "
               "without asking HeyGen. Refresh when HeyGen has added voices or your team made new avatars.")
    refreshed = False
    why_not = denial(ctx.actor, Action.REFRESH_CATALOG)
    if st.button("Refresh catalog from HeyGen", key="set_refresh_catalog", icon=":material/sync:",
                 disabled=why_not is not None, help=plain(why_not) or None):
        view = catalog_view(runtime, refresh=True, actor=ctx.actor)
        refreshed = True
        st.success(f"Catalog refreshed: {len(view.catalog.voices):,} voices and {len(view.catalog.looks):,} "
                   "avatar looks.", icon=":material/check_circle:")
    view = loaded_catalog(runtime)
    if view is not None and not refreshed:
        cat = view.catalog
        st.caption(f"Loaded: {len(cat.voices):,} voices and {len(cat.looks):,} avatar looks, fetched "
                   f"{human_ago(cat.fetched_at)} ({'from the cache' if cat.from_cache else 'fresh from HeyGen'}).")
    elif view is None:
        fetched = runtime.client.catalog_fetched_at("voices")
        st.caption(f"Cached voices fetched {human_ago(fetched)}." if fetched else "Nothing fetched yet.")


# --------------------------------------------------------------------------- storage and worker


def _storage(ctx: FrameContext) -> None:
    settings, runtime = ctx.settings, ctx.runtime
    st.subheader("Storage", anchor=False)
    rows = [
        ("Database", runtime.engine.url.render_as_string(hide_password=True), "DATABASE_URL"),
        ("HTTP cache", config.hide_password(settings.http_cache_location), "HTTP_CACHE_URL"),
        ("Data folder", str(settings.data_dir), "DATA_DIR"),
    ]
    st.dataframe(pd.DataFrame(rows, columns=["What", "Where", "Setting"]), hide_index=True,
                 column_config={"Where": st.column_config.TextColumn(width="large")})


def _backfill(ctx: FrameContext) -> None:
    """on_click-free action: archive every finished reel without an archive, with a progress bar."""
    runtime = ctx.runtime
    bar = st.progress(0.0, text="Looking for finished videos without an archive…")

    def show(done: int, total: int, outcome) -> None:
        bar.progress(done / total, text=f"{done} of {total}: reel {outcome.reel_id} {outcome.state}")

    outcomes = archiver.backfill(runtime.session_factory, runtime.archive, runtime.client, actor=ctx.actor,
                                 timeout_s=runtime.settings.archive_timeout_s, progress=show)
    failed = [o for o in outcomes if o.state == "failed"]
    bar.empty()
    if not outcomes:
        st.success("Every finished video is archived already.", icon=":material/inventory_2:")
    elif failed:
        st.warning(f"{len(outcomes) - len(failed)} archived, {len(failed)} not: " +
                   " ".join(f"Reel {o.reel_id}: {o.reason}" for o in failed[:3]), icon=":material/cloud_off:")
    else:
        st.success(f"Archived {len(outcomes)} finished video(s).", icon=":material/inventory_2:")


def _archive(ctx: FrameContext) -> None:
    settings, runtime = ctx.settings, ctx.runtime
    st.subheader("Archive", anchor=False)
    with runtime.session_factory() as session:
        totals = jobs_archive.summary(session)
    where = runtime.archive.label if runtime.archive else "—"
    keep = (f"kept for {settings.archive_retention_days} days after they finish" if settings.archive_retention_days
            else "kept forever")
    st.markdown(f"Finished videos are copied out of HeyGen (whose links expire after 7 days) to `{where}` "
                f"(ARCHIVE_URL) and {keep} (ARCHIVE_RETENTION_DAYS).")
    c1, c2 = st.columns(2)
    c3, c4 = st.columns(2)
    c1.metric("Archived videos", f"{totals.archived:,}")
    c2.metric("Size", human_size(totals.bytes), help=f"{totals.files:,} files")
    c3.metric("Waiting", f"{totals.pending:,}", help="Finished videos the worker has not copied yet")
    c4.metric("Failed", f"{totals.failed:,}", help="Retried by the worker with a growing delay; see Videos for why")
    why_not = denial(ctx.actor, Action.ARCHIVE_VIDEOS)
    if st.button("Archive all finished videos now", icon=":material/cloud_upload:", key="set_backfill",
                 disabled=why_not is not None, help=plain(why_not) if why_not else
                 "Copies every finished video that has no archive yet, one after another, in this session"):
        _backfill(ctx)


def _worker(ctx: FrameContext) -> None:
    settings, runtime = ctx.settings, ctx.runtime
    st.subheader("Worker", anchor=False)
    with runtime.session_factory() as session:
        status = lease.worker_status(session, lease_seconds=settings.lease_seconds)
    mode = {"embedded": "a thread inside this app", "external": "a separate `python -m core.jobs` process",
            "off": "switched off (WORKER_MODE=off): launched reels wait until a worker runs"}[settings.worker_mode]
    st.markdown(f"The worker submits queued reels to HeyGen and polls running ones; here it runs as {mode}.")
    state = ":green-badge[running]" if status.alive else ":red-badge[not running]"
    st.markdown(f"**State** {state} · **last cycle** {human_ago(status.last_cycle_at)} "
                f"(every {settings.poll_interval_s:g} s) · **HeyGen jobs at once** {settings.heygen_concurrency} "
                f"(HEYGEN_CONCURRENCY)" + (f" · **per owner** {settings.per_owner_cap}" if settings.per_owner_cap else ""))
    if status.holder:
        st.caption(f"Lease holder `{status.holder}` since {human_ago(status.acquired_at)}.")
    if not status.alive and settings.worker_mode != "off":
        st.warning("No worker holds the lease: launched reels stay queued. Start `python -m core.jobs` or set "
                   "WORKER_MODE=embedded and restart the app.", icon=":material/warning:")


def _script_model(ctx: FrameContext) -> None:
    """Which chat model drafts scripts from a topic (the key masked)."""
    settings, model = ctx.settings, ctx.runtime.script_model
    st.subheader("Script drafts", anchor=False)
    if model is None:
        st.markdown("Drafting scripts from a topic is off: set **LLM_MODEL** (with LLM_BASE_URL and LLM_API_KEY) "
                    "to any OpenAI-compatible chat model.")
        return
    if model.sandbox:
        st.markdown("The built-in sandbox writes **sandbox drafts** offline; set **LLM_MODEL** (with "
                    "LLM_BASE_URL and LLM_API_KEY) to use a real chat model.")
        return
    rows = [("Model", model.model, "LLM_MODEL"), ("Endpoint", config.hide_password(model.base_url), "LLM_BASE_URL"),
            ("API key", mask_secret(settings.llm_api_key), "LLM_API_KEY"),
            ("Timeout", f"{model.timeout_s:g} s", "LLM_TIMEOUT_SECONDS")]
    st.dataframe(pd.DataFrame(rows, columns=["What", "Value", "Setting"]), hide_index=True, key="set_llm")


# --------------------------------------------------------------------------- webhooks


def _webhook_action(client, verb: str, endpoint_id: str | None = None, url: str | None = None, *,
                    actor: Actor) -> None:
    """on_click for create / delete / rotate; outcome and any new secret go to session_state."""
    try:
        if verb == "create":
            endpoint = webhooks.register_endpoint(client, url, actor=actor)
            st.session_state[_SECRET] = (endpoint.endpoint_id, endpoint.secret)
            st.session_state[_WEBHOOK_NOTICE] = ("success", f"Endpoint created for {endpoint.url}.")
        elif verb == "rotate":
            endpoint = webhooks.rotate_endpoint_secret(client, endpoint_id, actor=actor)
            st.session_state[_SECRET] = (endpoint.endpoint_id, endpoint.secret)
            st.session_state[_WEBHOOK_NOTICE] = ("success", "New signing secret issued; the old one stopped "
                                                            "working.")
        elif verb == "delete":
            webhooks.delete_endpoint(client, endpoint_id, actor=actor)
            st.session_state[_WEBHOOK_NOTICE] = ("success", "Endpoint deleted; HeyGen sends it nothing more.")
    except (HeyGenError, PermissionDenied) as exc:
        st.session_state[_WEBHOOK_NOTICE] = ("error", str(exc))


def webhook_manager(client, *, public_url: str | None, secret_set: bool, actor: Actor) -> None:
    """List, create, delete and rotate webhook endpoints (``/v3/webhooks/endpoints``) with ``client``.

    Only admins see it: everyone else gets the reason in one sentence (and core refuses them anyway).
    """
    why_not = denial(actor, Action.MANAGE_WEBHOOKS)
    if why_not:
        st.info(f"{why_not} Webhook endpoints and their signing secrets are hidden.", icon=":material/lock:")
        return
    notice = st.session_state.pop(_WEBHOOK_NOTICE, None)
    if notice:
        (st.success if notice[0] == "success" else st.error)(notice[1])
    new = st.session_state.pop(_SECRET, None)
    if new and new[1]:
        st.warning("Copy this signing secret now — it is shown only this once. Store it as "
                   "**HEYGEN_WEBHOOK_SECRET** (environment, or `[heygen] webhook_secret` in secrets.toml) for the "
                   "worker, then restart it.", icon=":material/key:")
        st.code(new[1], language=None)
    try:
        endpoints = client.list_webhook_endpoints()
    except HeyGenError as exc:
        st.error(f"The webhook endpoints could not be listed. {exc}")
        return
    if endpoints:
        st.dataframe(pd.DataFrame([{"Endpoint": e.endpoint_id, "URL": e.url, "Events": ", ".join(e.events or [])
                                    or "all", "Status": e.status or "", "Created": e.created_at or ""}
                                   for e in endpoints]), hide_index=True)
        labels = {e.endpoint_id: f"{e.url} ({e.endpoint_id})" for e in endpoints}
        c1, c2, c3 = st.columns([3, 1, 1], vertical_alignment="bottom")
        chosen = c1.selectbox("Endpoint", list(labels), format_func=labels.get, key="set_endpoint")
        c2.button("Rotate secret", key="set_rotate", icon=":material/autorenew:", on_click=_webhook_action,
                  args=(client, "rotate", chosen), kwargs={"actor": actor}, width="stretch")
        c3.button("Delete", key="set_delete", icon=":material/delete:", on_click=_webhook_action,
                  args=(client, "delete", chosen), kwargs={"actor": actor}, width="stretch")
    else:
        st.caption("No endpoint registered: the worker finds out about finished renders by polling.")
    c1, c2 = st.columns([3, 1], vertical_alignment="bottom")
    url = c1.text_input("Receiver URL", value=public_url or "", key="set_webhook_url",
                        placeholder="https://reels.example.com/webhooks/heygen",
                        help="Where HeyGen can reach the worker's webhook receiver (WEBHOOK_PUBLIC_URL); HTTPS")
    c2.button("Create endpoint", key="set_create", icon=":material/add_link:", disabled=not url.strip(),
              on_click=_webhook_action, kwargs={"client": client, "verb": "create", "url": url.strip(), "actor": actor},
              width="stretch")
    if not secret_set:
        st.caption("HEYGEN_WEBHOOK_SECRET is not set: the receiver rejects every event until it is.")


def _webhooks(ctx: FrameContext) -> None:
    settings = ctx.settings
    st.subheader("Webhooks", anchor=False)
    if settings.sandbox:
        st.markdown(
            "In live mode HeyGen can **call the worker** the moment a render finishes or fails "
            "(`avatar_video.success`, `avatar_video.fail`), instead of the worker asking every "
            f"{settings.poll_interval_s:g} s. The worker keeps polling as a safety net either way. "
            "**The sandbox needs no webhook:** it runs next to the worker, and polling it is free. "
            "Once you set a HeyGen key, register the receiver URL here and store the signing secret.")
        return
    st.caption("HeyGen signs every event; the worker's receiver checks the signature with HEYGEN_WEBHOOK_SECRET "
               "and the worker keeps polling as a safety net.")
    webhook_manager(ctx.runtime.client, public_url=settings.webhook_public_url,
                    secret_set=bool(settings.webhook_secret), actor=ctx.actor)


def render(ctx: FrameContext) -> None:
    """The whole Settings page."""
    st.title("Settings", anchor=False)
    st.caption("What is in force. Settings come from environment variables or .streamlit/secrets.toml "
               "(environment wins); change them there and restart.")
    left, right = st.columns(2, gap="large")
    with left:
        _mode(ctx)
        _catalog(ctx)
    with right:
        _worker(ctx)
        _storage(ctx)
        _script_model(ctx)
        _archive(ctx)
    settings_section(ctx.runtime, ctx.actor)
    _webhooks(ctx)
    people_section(ctx)
