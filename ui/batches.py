"""The Batches page: a template, a spreadsheet, a checked preview of every row, then one reel per row.

Steps, top to bottom: choose (or make) a template and try it with sample values; upload a CSV or
XLSX (encoding, delimiter and sheet can be corrected); review every row — its rendered title and
scripts, problems, length and cost — leaving rows out or fixing cells in place; launch; then watch
and export each batch. User text is always shown as text (tables and ``st.text``), never as Markdown.
"""

from __future__ import annotations

from contextlib import closing
from pathlib import Path

import pandas as pd
import streamlit as st
from sqlalchemy import select

from core.access.permissions import PermissionDenied
from core.board.batches import batch_progress, batch_results
from core.heygen.errors import HeyGenError
from core.jobs import batches as batch_jobs
from core.models import Reel
from core.reels import speech
from core.reels.batches import (
    BatchError,
    BatchPreview,
    create_batch,
    preview_batch,
    rendered_reel,
    save_as_template,
    template_scripts,
    templates,
)
from core.reels.drafts import display_title
from core.reels.spreadsheet import (
    DELIMITER_NAMES,
    ENCODINGS,
    SpreadsheetError,
    read_sheet,
    to_csv_bytes,
    to_xlsx_bytes,
)
from core.reels.templates import TemplateError, template_variables
from ui.data import catalog_view
from ui.frame import FrameContext
from ui.links import page_link
from ui.text import plain

_AUTO = "Detect"


# --------------------------------------------------------------------------------------------
# Template
# --------------------------------------------------------------------------------------------


def _make_template(ctx: FrameContext, reel_id: int) -> None:
    with closing(ctx.runtime.session_factory()) as session:
        template = save_as_template(session, reel_id, actor=ctx.actor)
        session.commit()
        st.session_state["b_template"] = template.id
    st.toast("Template saved. Add {{ variables }} to its title and scripts in Compose.", icon=":material/check:")


def template_notice(template: Reel) -> None:
    """Compose's banner on a template: its variables, and where it is launched."""
    try:
        names = template_variables(template.title or "", template_scripts(template))
        text = ("Variables: " + ", ".join(names)) if names else "No variables yet: write {{ name }} in the title or a script."
    except TemplateError as exc:
        text = str(exc)
    st.info("This is a template: launch it from the Batches page, one reel per spreadsheet row.",
            icon=":material/table_view:")
    st.text(text)  # names and messages come from user text: shown as text, never as Markdown
    page_link("pages/7_Batches.py", "Open Batches", icon=":material/table_view:")


def _template_picker(ctx: FrameContext) -> Reel | None:
    with closing(ctx.runtime.session_factory()) as session:
        choices = templates(session)
        reels = {i: f"{display_title(t, i)} · #{i}" for i, t in session.execute(
            select(Reel.id, Reel.title).where(Reel.is_template.is_(False)).order_by(Reel.id.desc()).limit(200))}
    labels = {t.id: f"{display_title(t.title, t.id)} · #{t.id} · {t.owner or '—'}" for t in choices}
    with st.expander("Make a template from a reel", expanded=not choices):
        st.caption("A template is a copy of a reel whose title and scripts may hold variables such as "
                   "`{{ first_name }}` or `{{ team | upper }}`; it is never launched itself.")
        source = st.selectbox("Reel to copy", list(reels), key="b_source", format_func=reels.get,
                              placeholder="Choose a reel", index=None)
        st.button("Save as template", key="b_make", disabled=source is None, on_click=_make_template,
                  args=(ctx, source), icon=":material/content_copy:",
                  help="Choose a reel to copy first" if source is None else None)
    if not choices:
        st.info("No templates yet: make one from a reel above, then add variables to it in Compose.")
        return None
    ids = list(labels)
    if st.session_state.get("b_template") not in ids:
        st.session_state["b_template"] = ids[0]
    chosen = st.selectbox("Template", ids, key="b_template", format_func=labels.get)
    with closing(ctx.runtime.session_factory()) as session:
        template = session.get(Reel, chosen)
        if template is not None:
            session.expunge(template)
    return template


def _try_template(ctx: FrameContext, template: Reel, variables: list[str]) -> None:
    """Sample values for each variable, the rendered title and scripts, and a Listen per scene."""
    with st.expander("Try the template with sample values"):
        cols = st.columns(min(3, max(1, len(variables))))
        values = {name: cols[n % len(cols)].text_input(name, key=f"b_sample_{template.id}_{name}")
                  for n, name in enumerate(variables)}
        reel, problems = rendered_reel(template, {k: v for k, v in values.items() if v})
        for problem in problems:
            st.caption(f"⚠ {problem}")
        st.text(f"Title: {reel.title}")
        for scene in reel.scenes:
            st.text(f"Scene {scene.position}: {scene.script}")
            _listen(ctx, template.id, scene, enabled=not problems)


def _listen(ctx: FrameContext, template_id: int, scene, *, enabled: bool) -> None:
    with closing(ctx.runtime.session_factory()) as session:
        sample = speech.find_speech_sample(session, scene.voice_id or "", scene.script, speed=scene.speed,
                                           locale=scene.locale) if scene.voice_id and scene.script.strip() else None
    if sample is not None:
        st.audio(Path(sample.audio_path).read_bytes())
        return
    reason = None if enabled else "Fill every variable to listen."
    if enabled and not speech.can_sample(scene.voice_id):
        reason = speech.NOT_STARFISH_REASON
    key = f"b_listen_{template_id}_{scene.position}"
    if st.button("Listen", key=key, icon=":material/play_circle:", disabled=bool(reason), help=reason):
        with closing(ctx.runtime.session_factory()) as session:
            try:
                speech.speech_sample(session, ctx.runtime.client, ctx.settings.data_dir, scene.voice_id or "",
                                     scene.script, actor=ctx.actor, speed=scene.speed, locale=scene.locale)
                session.commit()
                st.rerun()
            except (speech.SpeechUnavailable, HeyGenError, PermissionDenied) as exc:
                session.rollback()
                st.error(plain(exc))


# --------------------------------------------------------------------------------------------
# Upload and preview
# --------------------------------------------------------------------------------------------


def _upload() -> tuple[pd.DataFrame, str] | None:
    upload = st.file_uploader("Spreadsheet (CSV or XLSX, one row per reel, up to 10,000 rows)",
                              type=["csv", "xlsx", "txt"], key="b_file")
    if upload is None:
        return None
    data, name = upload.getvalue(), upload.name
    c1, c2, c3 = st.columns(3)
    encoding = c1.selectbox("Encoding", [_AUTO, *ENCODINGS], key="b_encoding",
                            help="UTF-8 (with or without BOM) is tried first, then Windows-1252 and Latin-1")
    delimiter = c2.selectbox("Delimiter", [_AUTO, *DELIMITER_NAMES], key="b_delimiter",
                             format_func=lambda d: DELIMITER_NAMES.get(d, d))
    sheet_name = st.session_state.get("b_sheet")
    try:
        sheet = read_sheet(data, name, encoding=None if encoding == _AUTO else encoding,
                           delimiter=None if delimiter == _AUTO else delimiter, sheet=sheet_name)
    except SpreadsheetError as exc:
        if exc.sheet_names:
            c3.selectbox("Sheet", exc.sheet_names, key="b_sheet", index=None, placeholder="Choose a sheet")
        st.error(str(exc), icon=":material/error:")
        return None
    if sheet.sheet_names and len(sheet.sheet_names) > 1:
        c3.selectbox("Sheet", sheet.sheet_names, key="b_sheet")
    detected = (f"{sheet.encoding}, {DELIMITER_NAMES.get(sheet.delimiter or '', '')}-separated"
                if sheet.encoding else f"sheet {sheet.sheet}")
    st.caption(f"{len(sheet.frame):,} rows × {len(sheet.frame.columns)} columns read ({detected}).")
    return sheet.frame, name


def _preview_table(preview: BatchPreview) -> pd.DataFrame:
    return pd.DataFrame([{
        "row": r.number,
        "state": "left out" if r.excluded else ("ready" if r.ok else "problem"),
        "title": r.title,
        "scripts": " ⏐ ".join(r.scripts),
        "length_s": round(r.duration_s),
        "cost_usd": r.cost_usd,
        "problems": " ".join(r.problems),
    } for r in preview.rows])


def _edit_rows(frame: pd.DataFrame, file_name: str) -> pd.DataFrame:
    """The uploaded rows in an editor: fix cells in place, untick "Include" to leave a row out."""
    editable = frame.copy()
    editable.insert(0, "Include", True)
    st.caption("Fix a cell in place or untick Include to leave a row out; the preview below follows.")
    return st.data_editor(editable, key=f"b_rows_{file_name}_{len(frame)}", hide_index=True, width="stretch",
                          num_rows="fixed", height=min(400, 38 + 35 * len(frame)),
                          column_config={"Include": st.column_config.CheckboxColumn("Include", width="small")})


def _launch(ctx: FrameContext, template_id: int, rows: pd.DataFrame, excluded: list[int], file_name: str) -> None:
    view = catalog_view(ctx.runtime)
    with closing(ctx.runtime.session_factory()) as session:
        try:
            batch = create_batch(session, template_id, rows, actor=ctx.actor, file_name=file_name, excluded=excluded)
            session.commit()
            report = batch_jobs.launch_batch(session, batch.id, actor=ctx.actor, index=view.catalog.index)
        except (BatchError, TemplateError) as exc:
            session.rollback()
            st.session_state["b_flash"] = ("error", str(exc))
            return
    st.session_state["b_flash"] = ("ok", f"Batch {batch.id}: {report.message}")
    st.session_state["b_launched"] = st.session_state.get("b_launched", ()) + ((file_name, len(rows)),)


# --------------------------------------------------------------------------------------------
# Batches list
# --------------------------------------------------------------------------------------------


def _batch_actions(ctx: FrameContext, batch_id: int, verb: str) -> None:
    with closing(ctx.runtime.session_factory()) as session:
        fn = batch_jobs.retry_failed if verb == "retry" else batch_jobs.cancel_queued
        n = fn(session, batch_id, actor=ctx.actor)
    word = "queued again" if verb == "retry" else "cancelled"
    st.session_state["b_flash"] = ("ok", f"Batch {batch_id}: {n:,} reel{'s' * (n != 1)} {word}.")


def _batches(ctx: FrameContext) -> None:
    st.subheader("Your batches", anchor=False)
    with closing(ctx.runtime.session_factory()) as session:
        progress = batch_progress(session)
    if not progress:
        st.caption("No batches yet.")
        return
    table = pd.DataFrame([{"id": p.id, "title": p.title, "owner": p.owner, "rows": p.rows, "reels": p.reels,
                           "done": p.done, "completed": p.completed, "failed": p.failed, "rendering": p.rendering,
                           "queued": p.queued} for p in progress])
    cc = st.column_config
    event = st.dataframe(table, hide_index=True, width="stretch", on_select="rerun", selection_mode="single-row",
                         key="b_list", column_config={
                             "id": cc.NumberColumn("Batch", format="%d", width="small"),
                             "title": cc.TextColumn("Title", width="medium"), "owner": cc.TextColumn("Owner"),
                             "rows": cc.NumberColumn("Rows"), "reels": cc.NumberColumn("Reels"),
                             "done": cc.ProgressColumn("Done", min_value=0.0, max_value=1.0, format="percent"),
                             "completed": cc.NumberColumn("Completed"), "failed": cc.NumberColumn("Failed"),
                             "rendering": cc.NumberColumn("Rendering"), "queued": cc.NumberColumn("Queued"),
                         })
    rows = list(event.selection.rows)
    chosen = progress[rows[0]] if rows else progress[0]
    st.caption(f"Batch {chosen.id}: {chosen.completed:,} completed, {chosen.failed:,} failed, "
               f"{chosen.rendering:,} rendering, {chosen.queued:,} queued of {chosen.reels:,} reels.")
    with closing(ctx.runtime.session_factory()) as session:
        results = batch_results(session, chosen.id)
    c1, c2, c3, c4, c5 = st.columns(5)
    c1.button("Retry failed", key="b_retry", disabled=not chosen.failed, on_click=_batch_actions,
              args=(ctx, chosen.id, "retry"), icon=":material/replay:", width="stretch")
    c2.button("Cancel queued", key="b_cancel", disabled=not chosen.queued, on_click=_batch_actions,
              args=(ctx, chosen.id, "cancel"), icon=":material/cancel:", width="stretch")
    c3.download_button("Results CSV", to_csv_bytes(results), f"batch-{chosen.id}.csv", "text/csv", key="b_csv",
                       icon=":material/download:", width="stretch", on_click="ignore")
    c4.download_button("Results XLSX", to_xlsx_bytes(results), f"batch-{chosen.id}.xlsx",
                       "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", key="b_xlsx",
                       icon=":material/download:", width="stretch", on_click="ignore")
    with c5:
        page_link("pages/4_Status.py", "On Status", icon=":material/monitoring:",
                  query_params={"s_batch": str(chosen.id)})


# --------------------------------------------------------------------------------------------
# The page
# --------------------------------------------------------------------------------------------


def render(ctx: FrameContext) -> None:
    """Draw the Batches page."""
    st.title("Batches", anchor=False)
    st.caption("One template, a spreadsheet with one row per person or product, one reel per row. "
               "Nothing is spent until you launch.")
    flash = st.session_state.pop("b_flash", None)
    if flash:
        (st.success if flash[0] == "ok" else st.error)(flash[1])
    st.subheader("1 · Template", anchor=False)
    template = _template_picker(ctx)
    if template is not None:
        try:
            variables = template_variables(template.title or "", template_scripts(template))
        except TemplateError as exc:
            st.error(f"{exc} Fix it in Compose.", icon=":material/error:")
            page_link("pages/3_Compose.py", "Open the template in Compose", query_params={"c_reel": str(template.id)})
            return
        st.text("Variables: " + (", ".join(variables) if variables else "none yet — add {{ name }} in Compose"))
        st.caption("Reserved columns override a scene's ids: voice_id and avatar_look_id (every scene), "
                   "scene2.voice_id, scene2.avatar_look_id, …")
        page_link("pages/3_Compose.py", "Edit the template in Compose", icon=":material/edit:",
                  query_params={"c_reel": str(template.id)})
        if variables:
            st.download_button("Sample CSV with these columns", to_csv_bytes(pd.DataFrame(columns=variables)),
                               "template-columns.csv", "text/csv", key="b_sample_csv", on_click="ignore")
        _try_template(ctx, template, variables)
        st.subheader("2 · Spreadsheet", anchor=False)
        uploaded = _upload()
        if uploaded is not None:
            _review(ctx, template, *uploaded)
    _batches(ctx)


def _review(ctx: FrameContext, template: Reel, frame: pd.DataFrame, file_name: str) -> None:
    edited = _edit_rows(frame, file_name)
    st.subheader("3 · Check and launch", anchor=False)
    rows = edited.drop(columns=["Include"])
    excluded = [n for n, keep in enumerate(edited["Include"].tolist(), start=1) if not keep]
    view = catalog_view(ctx.runtime)
    with st.spinner(f"Checking {len(rows):,} rows…"):
        preview = preview_batch(template, rows, view.catalog.index, excluded=excluded)
    if preview.missing_columns:
        st.error("No column gives " + ", ".join(preview.missing_columns) + ": add it to the spreadsheet or remove "
                 "the variable from the template.", icon=":material/error:")
    if preview.unused_columns:
        st.warning("Not used by the template: " + ", ".join(preview.unused_columns) + ".", icon=":material/info:")
    ready, problems = len(preview.launchable), sum(1 for r in preview.rows if r.problems and not r.excluded)
    m1, m2, m3, m4 = st.columns(4)
    m1.metric("Ready", f"{ready:,}")
    m2.metric("With problems", f"{problems:,}")
    m3.metric("Length", f"{preview.total_duration_s / 60:,.1f} min")
    m4.metric("Estimated cost", f"${preview.total_cost_usd:,.2f}")
    cc = st.column_config
    st.dataframe(_preview_table(preview), hide_index=True, width="stretch", key="b_preview", column_config={
        "row": cc.NumberColumn("Row", width="small"),
        "state": cc.TextColumn("State", width="small"),
        "title": cc.TextColumn("Title", width="medium"),
        "scripts": cc.TextColumn("Scripts", width="large"),
        "length_s": cc.NumberColumn("Length", format="%d s", width="small"),
        "cost_usd": cc.NumberColumn("Cost", format="$%.2f", width="small"),
        "problems": cc.TextColumn("Problems", width="large"),
    })
    mode = ctx.settings.mode
    spend = f"about ${preview.total_cost_usd:,.2f}" + (" of sandbox play money" if mode == "sandbox" else "")
    confirmed = st.checkbox(f"Launch {ready:,} reel{'s' * (ready != 1)}, spending {spend}", key="b_confirm",
                            disabled=not ready)
    reason = ("No row is ready yet" if not ready else None if confirmed else "Tick the box above to confirm the spend")
    st.button(f"Launch {ready:,} reels", type="primary", key="b_go", disabled=bool(reason), help=reason,
              on_click=_launch, args=(ctx, template.id, rows, excluded, file_name), icon=":material/rocket_launch:")
