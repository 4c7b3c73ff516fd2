"""Home page: a welcome for a new team, then attention items, new videos, counts and recent reels."""

from __future__ import annotations

from datetime import timedelta

import pytest

from core.models import utcnow
from tests.apptest.conftest import FAKE_AUTH
from tests.apptest.reel_states import make_reel
from ui.text import plain

FAILURE = ("RENDER_FAILED", "The avatar look was removed from your account.")


@pytest.fixture(scope="module")
def quiet(app_runtime):
    """No worker: the seeded reels keep the states they are given."""
    if app_runtime.worker is not None:
        app_runtime.worker.stop()
    return app_runtime


def test_a_new_user_gets_first_steps(open_page, quiet):
    at = open_page(user="Newbie")
    assert not at.exception, at.exception
    assert any("first reel" in s.value for s in at.subheader)
    steps = " ".join(m.value for m in at.markdown)
    assert "Pick a voice" in steps and "Compose and launch" in steps
    assert any("sandbox mode" in i.value for i in at.info)


@pytest.fixture(scope="module")
def seeded(quiet):
    with quiet.session_factory() as session:
        reels = {
            "failed": make_reel(session, "Product tour", "failed", failure=FAILURE),
            "stuck": make_reel(session, "Holiday greeting", "processing", ago=timedelta(hours=3)),
            "old": make_reel(session, "Last month recap", "completed", ago=timedelta(days=2)),
            "new": make_reel(session, "Launch day", "completed", ago=timedelta(minutes=10)),
            "draft": make_reel(session, "Script ideas", "draft"),
            "other": make_reel(session, "Bruno's reel", "failed", owner="Bruno"),
        }
    return {k: r.id for k, r in reels.items()}


def _texts(at) -> str:
    return " ".join(e.value for e in [*at.markdown, *at.caption, *at.success, *at.info])


def test_attention_lists_my_failed_and_stuck_reels(open_page, seeded):
    at = open_page(state={"home_last_seen": {"Ana": utcnow() - timedelta(hours=1)}})
    assert not at.exception, at.exception
    text = _texts(at)
    assert "Product tour" in text and plain(FAILURE[1]) in text
    assert "Holiday greeting" in text and "looks stuck" in text
    assert "Bruno's reel" not in text, "attention shows the person's own reels"
    counts = {m.label: m.value for m in at.metric}
    assert counts["Failed"] == "2" and counts["Completed"] == "2" and counts["Drafts"] == "1"


def _finished_lines(at) -> list[str]:
    return [m.value for m in at.markdown if " · finished " in m.value]


def test_new_videos_since_last_look_until_marked_seen(open_page, seeded):
    at = open_page(state={"home_last_seen": {"Ana": utcnow() - timedelta(hours=1)}})
    lines = _finished_lines(at)
    assert len(lines) == 1 and "Launch day" in lines[0]
    at.button(key="home_mark_seen").click().run()
    assert not at.exception, at.exception
    assert _finished_lines(at) == []
    assert "home_mark_seen" not in [b.key for b in at.button]
    assert any(c.value.startswith("Nothing has finished since you last looked (just now)") for c in at.caption)


def test_a_visitor_who_has_not_signed_in_sees_only_the_sign_in_screen(open_page, seeded, oidc_provider):
    auth = {**FAKE_AUTH, "server_metadata_url": oidc_provider.metadata_url}
    at = open_page(user=None, secrets={"auth": auth})
    assert not at.exception, at.exception
    assert [b.label for b in at.button] == ["Sign in"] and not at.button(key="signin").disabled
    assert "Bruno's reel" not in _texts(at) and not at.error


def test_an_unreachable_provider_is_named_on_the_sign_in_screen(open_page):
    at = open_page(user=None)  # FAKE_AUTH points at a closed loopback port
    assert not at.exception, at.exception
    assert [e.value for e in at.error] == [
        "The sign-in provider at 127.0.0.1:9 cannot be reached right now; try again in a minute or tell your admin."]
    assert at.button(key="signin").disabled


@pytest.mark.parametrize("missing", ["cookie_secret", "client_secret", "server_metadata_url"])
def test_an_incomplete_auth_section_names_the_missing_key(open_page, missing):
    auth = {k: v for k, v in FAKE_AUTH.items() if k != missing}
    at = open_page(user="Ana", secrets={"auth": auth})
    assert [e.value for e in at.error] == [
        f"Sign-in is not usable: [auth] in .streamlit/secrets.toml has no {missing}; add it (see secrets.toml.example)."]
    assert not at.button, "nothing else is drawn"


def test_an_id_token_without_email_is_refused_with_the_reason(open_page):
    at = open_page(user="NoMail", email="")
    assert not at.exception, at.exception
    assert at.error[0].value.startswith(plain("Your sign-in provider did not send an email address"))
    assert [b.label for b in at.button] == ["Log out"]


def test_a_disallowed_domain_is_refused(open_page, monkeypatch, app_runtime):
    import dataclasses

    monkeypatch.setattr(app_runtime, "settings", dataclasses.replace(app_runtime.settings,
                                                                     allowed_email_domains="example.com"))
    at = open_page(user="Mallory", email="mallory@evil.example")
    assert at.error[0].value == plain(
        "mallory@evil.example may not use Reel Studio: only addresses at example.com are allowed.")
    assert [b.label for b in at.button] == ["Log out"]


def test_without_auth_on_localhost_the_local_user_is_admin(open_page):
    at = open_page(local=True)
    assert not at.exception, at.exception
    sidebar = " ".join(m.value for m in at.sidebar.markdown)
    assert "Admin" in sidebar
    assert any("Local user" in c.value for c in at.sidebar.caption)
    assert not any(b.label == "Log out" for b in at.sidebar.button)


def test_old_links_with_me_are_ignored(open_page):
    at = open_page(user="Ana", query={"me": "Mallory"})
    assert not at.exception, at.exception
    assert "me" not in at.query_params or not at.query_params["me"]
    assert "Mallory" not in " ".join(m.value for m in at.sidebar.markdown)
