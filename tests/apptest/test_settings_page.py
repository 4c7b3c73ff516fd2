"""Settings page: mode, masked key and key check, worker, storage without passwords, catalog refresh, webhooks."""

from __future__ import annotations

from streamlit.testing.v1 import AppTest

from core.config import SANDBOX_API_KEY, mask_secret
from ui.text import plain

PAGE = "pages/6_Settings.py"


def test_shows_mode_masked_key_and_storage(open_page, app_runtime):
    at = open_page(PAGE)
    assert not at.exception, at.exception
    assert at.text_input(key="set_key_masked").value == mask_secret(SANDBOX_API_KEY)
    page_text = " ".join(m.value for m in at.markdown)
    assert "built-in sandbox" in page_text
    assert "The sandbox needs no webhook" in page_text
    assert SANDBOX_API_KEY not in page_text
    storage = at.dataframe[0].value.set_index("What")
    assert storage.loc["Database", "Where"].startswith("sqlite:///")
    assert storage.loc["Data folder", "Where"] == str(app_runtime.settings.data_dir)


def test_check_key_reports_one_sentence(open_page):
    at = open_page(PAGE)
    at.button(key="set_check_key").click().run()
    assert not at.exception, at.exception
    (sentence,) = [s.value for s in at.success]
    assert sentence.startswith("The key works: account ") and sentence.endswith("remaining credit $100.00.")


def test_worker_status_comes_from_the_lease(open_page, app_runtime):
    app_runtime.worker.run_once()  # make sure the embedded worker holds the lease now
    at = open_page(PAGE)
    line = next(m.value for m in at.markdown if m.value.startswith("**State**"))
    assert ":green-badge[running]" in line and "**last cycle** just now" in line
    assert any(app_runtime.worker.name in c.value for c in at.caption)


def test_catalog_refresh_shows_counts(open_page):
    at = open_page(PAGE, user="Admin")
    at.button(key="set_refresh_catalog").click().run(timeout=60)
    assert not at.exception, at.exception
    assert any(s.value.startswith("Catalog refreshed:") and "voices" in s.value for s in at.success)


def _webhook_script() -> None:
    from core.access.actor import Actor
    from core.runtime import get_runtime
    from ui.settings_page import webhook_manager

    webhook_manager(get_runtime().client, public_url="https://reels.example.com/webhooks/heygen", secret_set=False,
                    actor=Actor("Admin", verified=True, user_id=1, role="admin"))


def test_webhook_endpoints_create_rotate_delete(app_runtime):
    """The live-mode webhook manager, driven against the sandbox's /v3/webhooks/endpoints."""
    at = AppTest.from_function(_webhook_script, default_timeout=30).run()
    assert not at.exception, at.exception
    assert at.text_input(key="set_webhook_url").value == "https://reels.example.com/webhooks/heygen"
    at.button(key="set_create").click().run()
    assert not at.exception, at.exception
    secret = at.code[0].value
    assert secret.startswith("whsec_")
    assert "HEYGEN_WEBHOOK_SECRET" in at.warning[0].value
    assert at.dataframe[0].value["URL"].tolist() == ["https://reels.example.com/webhooks/heygen"]
    at.run()
    assert not at.code, "the secret is shown only once"
    at.button(key="set_rotate").click().run()
    assert at.code[0].value.startswith("whsec_") and at.code[0].value != secret
    at.button(key="set_delete").click().run()
    assert not at.exception, at.exception
    assert not at.dataframe
    assert app_runtime.client.list_webhook_endpoints() == []


def test_producers_see_why_they_cannot_refresh_or_manage_people(open_page):
    at = open_page(PAGE, user="Pam")
    assert not at.exception, at.exception
    refresh = at.button(key="set_refresh_catalog")
    assert refresh.disabled and refresh.help == plain("Only an admin can refresh the catalog.")
    assert any("Only an admin can manage users and roles." in c.value for c in at.caption)


def test_admins_set_roles_in_people(open_page, app_runtime):
    from core.access.users import list_users
    from core.db import session_scope
    from tests.people import signed_in

    with session_scope(app_runtime.session_factory) as s:
        signed_in(s, "Pia")
    at = open_page(PAGE, user="Admin")
    assert not at.exception, at.exception
    with app_runtime.session_factory() as s:
        pia = next(u for u in list_users(s) if u.email == "pia@example.com")
    at.selectbox(key="set_people_user").select(pia.id)
    at.selectbox(key="set_people_role").select("viewer")
    at.button(key="set_people_set_role").click().run()
    assert not at.exception, at.exception
    with app_runtime.session_factory() as s:
        assert next(u for u in list_users(s) if u.email == "pia@example.com").role == "viewer"
def test_archive_section_counts_and_backfills(open_page, app_runtime, monkeypatch):
    from tests.apptest.reel_states import make_reel

    archiver = app_runtime.worker.archiver  # the embedded worker must not try the reel first
    monkeypatch.setattr(archiver, "schedule", lambda: 0)
    assert archiver.wait(60)
    with app_runtime.session_factory() as session:  # a finished reel whose video HeyGen no longer has
        gone = make_reel(session, "Gone at HeyGen", "completed")
    at = open_page(PAGE, user="Admin")
    assert not at.exception, at.exception
    metrics = {m.label: m.value for m in at.metric}
    assert {"Archived videos", "Size", "Waiting", "Failed"} <= set(metrics)
    assert any(f"`{app_runtime.archive.label}`" in m.value for m in at.markdown)
    at.button(key="set_backfill").click().run()
    assert not at.exception, at.exception
    assert any(f"Reel {gone.id}: HeyGen no longer has this video" in w.value for w in at.warning)


def test_only_admins_may_backfill_the_archive(open_page):
    at = open_page(PAGE, user="Pam")
    assert not at.exception, at.exception
    button = at.button(key="set_backfill")
    assert button.disabled and button.help == plain("Only an admin can archive finished videos.")
