"""The Batches page: template, upload, preview with problems, launch, progress and results."""

from __future__ import annotations

from sqlalchemy import select

from core.db import session_scope
from core.models import Batch, Reel
from core.reels.batches import save_as_template
from core.reels.drafts import create_reel
from core.reels.validation import SceneInput
from tests.engine.test_jobs_lifecycle import AVATAR_ID, VOICE_ID
from tests.people import signed_in

PAGE = "pages/7_Batches.py"


def _table(at, column: str):
    """The page's dataframe that has ``column`` (the preview has "state", the batches list "reels")."""
    return next(d.value for d in at.dataframe if column in d.value.columns)
SCRIPTS = ["Hi {{ first_name }}, welcome to {{ team }}.", "We are glad you are here.", "See you soon, {{ first_name }}."]


def _template(app_runtime) -> int:
    with session_scope(app_runtime.session_factory) as s:
        reel = create_reel(s, actor=signed_in(s, "Ana"), title="Welcome {{ first_name }}",
                           scenes=[SceneInput(i, AVATAR_ID, VOICE_ID, script) for i, script in enumerate(SCRIPTS, 1)])
        template = save_as_template(s, reel.id, actor=signed_in(s, "Ana"))
        return template.id


def test_without_templates_the_page_says_how_to_make_one(open_page) -> None:
    at = open_page(PAGE)
    assert not at.exception
    assert any("No templates yet" in i.value for i in at.info)


def test_save_as_template_from_a_reel(open_page, app_runtime) -> None:
    with session_scope(app_runtime.session_factory) as s:
        reel_id = create_reel(s, actor=signed_in(s, "Ana"), title="Onboarding").id
    at = open_page(PAGE)
    at.selectbox(key="b_source").select(reel_id).run()
    at.button(key="b_make").click().run()
    assert not at.exception
    with app_runtime.session_factory() as s:
        made = s.scalars(select(Reel).where(Reel.is_template.is_(True), Reel.title == "Onboarding")).all()
    assert len(made) == 1 and made[0].id != reel_id
    assert at.selectbox(key="b_template").value == made[0].id


def test_upload_preview_and_launch_one_reel_per_ready_row(open_page, app_runtime) -> None:
    template_id = _template(app_runtime)
    at = open_page(PAGE, state={"b_template": template_id})
    assert "first_name, team" in " ".join(t.value for t in at.text)
    csv = "first_name;team\nLucía;Ventas\nBen;\nZoë;Soporte\n".encode("cp1252")
    at.file_uploader(key="b_file").upload("people.csv", csv, "text/csv").run()
    assert not at.exception
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Ready"] == "2" and metrics["With problems"] == "1"
    preview = _table(at, "state")
    assert preview["state"].tolist() == ["ready", "problem", "ready"]
    assert preview.loc[0, "title"] == "Welcome Lucía"
    assert "team, which this row does not have" in preview.loc[1, "problems"]
    assert at.button(key="b_go").disabled  # not confirmed yet
    at.checkbox(key="b_confirm").check().run()
    at.button(key="b_go").click().run()
    assert not at.exception
    assert any("2 reels queued, 1 row left out" in s.value for s in at.success)
    with app_runtime.session_factory() as s:
        batch = s.scalars(select(Batch).where(Batch.template_id == template_id)).one()
        reels = s.scalars(select(Reel).where(Reel.batch_id == batch.id).order_by(Reel.batch_row)).all()
    assert [(r.batch_row, r.title) for r in reels] == [(1, "Welcome Lucía"), (3, "Welcome Zoë")]
    assert reels[0].scenes[0].script == "Hi Lucía, welcome to Ventas."
    at.checkbox(key="b_confirm").check().run()
    at.button(key="b_go").click().run()  # the same upload launched again
    assert any("0 reels queued, 2 already launched" in s.value for s in at.success)
    with app_runtime.session_factory() as s:
        assert len(s.scalars(select(Reel).where(Reel.batch_id == batch.id)).all()) == 2
    assert _table(at, "reels")["reels"].tolist()[0] == 2


def test_a_workbook_with_several_sheets_asks_which(open_page, app_runtime) -> None:
    import io

    from openpyxl import Workbook

    template_id = _template(app_runtime)
    book = Workbook()
    book.active.title = "People"
    book.active.append(["first_name", "team"])
    book.active.append(["Ana", "Ops"])
    book.create_sheet("Notes").append(["x"])
    data = io.BytesIO()
    book.save(data)
    at = open_page(PAGE, state={"b_template": template_id})
    at.file_uploader(key="b_file").upload("people.xlsx", data.getvalue()).run()
    assert any("2 sheets (People, Notes); choose one" in e.value for e in at.error)
    at.selectbox(key="b_sheet").select("People").run()
    assert not at.exception and _table(at, "state")["state"].tolist() == ["ready"]


def test_compose_marks_a_template_and_launch_says_where_it_is_launched(open_page, app_runtime) -> None:
    template_id = _template(app_runtime)
    at = open_page("pages/3_Compose.py", query={"c_reel": [str(template_id)]})
    assert not at.exception
    assert any("This is a template" in i.value for i in at.info)
    assert any(t.value == "Variables: first_name, team" for t in at.text)
    launch = at.button(key=f"c_launch_{template_id}")
    assert launch.disabled and "Batches page" in launch.help
