"""Real sign-in in Chromium: oidc-provider-mock on loopback, `[auth]` pointing at it, several people.

One app server with sign-in configured (a secrets.toml written for this module and given with
``--secrets.files``), allowed domain example.com, producers by default, admin@example.com an admin.
Each person signs in in their own browser context, through the provider's own sign-in page.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect

from core.access.actor import Actor, worker_actor
from core.access.permissions import PermissionDenied
from core.access.users import actor_for, set_role
from core.catalog.annotations import save_annotation
from core.db import make_engine, make_session_factory, session_scope
from core.jobs import lifecycle
from core.models import Reel, User
from core.reels import drafts
from core.reels.validation import SceneInput
from tests.e2e.conftest import AppServer, free_port, key_button, snap, wait_for_app_run
from tests.e2e.reel_steps import SCENES
from tests.fixtures.oidc import authorize_as, write_auth_secrets

PAYLOAD = "[Your render failed — sign in](https://evil.example) ![](http://tracker/p.png)"
PEOPLE = {"ana@example.com": "Ana", "ben@example.com": "Ben", "vic@example.com": "Vic",
          "admin@example.com": "Admin", "mallory@evil.example": "Mallory", "pay@example.com": PAYLOAD}


@pytest.fixture(scope="module")
def app_server(tmp_path_factory, oidc_provider) -> Iterator[AppServer]:
    """The app with sign-in against the provider on loopback."""
    for email, name in PEOPLE.items():
        oidc_provider.register(email, name)
    oidc_provider.register_without_email("nomail", "No Mail")
    port = free_port()
    secrets = write_auth_secrets(tmp_path_factory.mktemp("auth") / "secrets.toml", app_port=port,
                                 metadata_url=oidc_provider.metadata_url)
    env = {"ALLOWED_EMAIL_DOMAINS": "example.com", "DEFAULT_ROLE": "producer", "ADMIN_EMAILS": "admin@example.com"}
    server = AppServer(tmp_path_factory.mktemp("e2e-signin"), env, port=port,
                       extra_args=("--secrets.files", str(secrets)))
    yield server
    server.stop()


@pytest.fixture(scope="module")
def db(app_server) -> Iterator:
    """A session factory on the app's own database (for setting up and for calling core directly)."""
    engine = make_engine(f"sqlite:///{app_server.data_dir / 'reels.db'}")
    yield make_session_factory(engine)
    engine.dispose()


#: Sets roles in the app's database, as an admin on Settings would.
ADMIN = Actor("Admin", verified=True, role="admin")
#: Every URL any page of this module visited (identity must never appear in one).
VISITED: list[str] = []


@pytest.fixture(scope="module")
def people(browser: Browser) -> Iterator[dict[str, BrowserContext]]:
    contexts: dict[str, BrowserContext] = {}

    def context(email: str) -> BrowserContext:
        if email not in contexts:
            ctx = browser.new_context(viewport={"width": 1440, "height": 1000})
            ctx.set_default_timeout(30_000)
            contexts[email] = ctx
        return contexts[email]

    yield context  # type: ignore[misc]
    for ctx in contexts.values():
        ctx.close()


def _page(ctx: BrowserContext) -> Page:
    page = ctx.pages[0] if ctx.pages else ctx.new_page()
    if not getattr(page, "_watched", False):
        page.on("framenavigated", lambda frame: VISITED.append(frame.url))
        page._watched = True  # type: ignore[attr-defined]
    return page


#: URLs the tests typed themselves (an old ``?me=`` link among them): left out of the URL check.
TYPED: set[str] = set()


def go(page: Page, server: AppServer, path: str) -> None:
    TYPED.add(f"{server.url}{path}")
    page.goto(f"{server.url}{path}")
    wait_for_app_run(page, 120_000)


def sign_in(people, server: AppServer, email: str, path: str = "/") -> Page:
    """``email`` signs in through the provider's page (once per context) and lands on ``path``."""
    page = _page(people(email))
    go(page, server, path)
    expect(page.locator(".st-key-signin, .st-key-logout, .st-key-signin_refused_logout").first).to_be_visible()
    button = key_button(page, "signin")
    if button.count():
        button.click()
        authorize_as(page, email)
        page.wait_for_url(re.compile(rf"^{re.escape(server.url)}/(\?.*)?$"))  # past /oauth2callback
        wait_for_app_run(page, 120_000)
        if "@example.com" in email:  # allowed in: signed in once the sidebar shows Log out
            expect(key_button(page, "logout")).to_be_visible(timeout=60_000)
        if path != "/":
            go(page, server, path)
    return page


def _user(db, email: str) -> User:
    with db() as session:
        return session.query(User).filter(User.email == email).one()


def _ready_reel(db, owner_email: str, title: str) -> int:
    with session_scope(db) as session:
        owner = actor_for(session.query(User).filter(User.email == owner_email).one())
        return drafts.create_reel(session, actor=owner, title=title, scenes=[
            SceneInput(position=n, avatar_id=s.look_id, voice_id=s.voice_id, script=s.script)
            for n, s in enumerate(SCENES, start=1)]).id


def test_a_deep_link_before_sign_in_shows_the_sign_in_screen(people, app_server):
    page = _page(people("visitor"))
    go(page, app_server, "/Compose?c_reel=1&me=Mallory")
    expect(key_button(page, "signin")).to_be_visible()
    expect(page.get_by_role("heading", name="Compose")).to_have_count(0)
    expect(page.get_by_test_id("stSidebar")).to_have_count(0)
    snap(page, "signin-screen")
    page.set_viewport_size({"width": 390, "height": 844})
    snap(page, "signin-screen-390")
    assert "me=" not in page.url


def test_a_producer_cannot_touch_someone_elses_draft(people, app_server, db):
    ana = sign_in(people, app_server, "ana@example.com", "/Compose")
    key_button(ana, "c_new").click()
    expect(ana).to_have_url(re.compile(r"[?&]c_reel=\d+"))
    reel_id = int(re.search(r"[?&]c_reel=(\d+)", ana.url).group(1))
    expect(ana.get_by_text(re.compile(r"owner Ana ·"))).to_be_visible()
    snap(ana, "signin-ana-compose")

    ben = sign_in(people, app_server, "ben@example.com", f"/Compose?c_reel={reel_id}")
    expect(ben.get_by_text("Only Ana (owner) or an admin can edit this reel.", exact=False)).to_be_visible()
    wait_for_app_run(ben)
    snap(ben, "signin-ben-sees-anas-draft")
    for key in (f"c_launch_{reel_id}", f"c_del_{reel_id}", f"c_dup_{reel_id}"):  # no Save button: saving is automatic
        expect(key_button(ben, key)).to_be_disabled()
    expect(ben.locator(f".st-key-c_r{reel_id}_title input")).to_be_disabled()
    expect(ben.get_by_test_id("stSidebar").get_by_text("Ben", exact=True)).to_be_visible()
    snap(ben, "signin-ben-sees-anas-draft")

    ben_actor = actor_for(_user(db, "ben@example.com"))
    with db() as session:
        with pytest.raises(PermissionDenied, match=r"^Only Ana \(owner\) or an admin can delete this reel\.$"):
            drafts.delete_reel(session, reel_id, actor=ben_actor)
        session.rollback()
        with pytest.raises(PermissionDenied, match="can edit this reel"):
            drafts.update_reel(session, reel_id, actor=ben_actor, title="Ben was here")
        session.rollback()
    ready = _ready_reel(db, "ana@example.com", "Ana's ready reel")
    with db() as session, pytest.raises(PermissionDenied, match="can launch this reel"):
        lifecycle.launch(session, ready, actor=ben_actor, index=None)
    worker = worker_actor("e2e-worker")
    queued_id = _ready_reel(db, "ana@example.com", "Ana's queued reel")
    failed_id = _ready_reel(db, "ana@example.com", "Ana's failed reel")
    with session_scope(db) as session:  # a queued and a failed reel of Ana's
        queued = session.get(Reel, queued_id)
        lifecycle.transition(session, queued, "queued", actor=worker, expected=("draft",))
        failed = session.get(Reel, failed_id)
        lifecycle.transition(session, failed, "queued", actor=worker, expected=("draft",))
        lifecycle.transition(session, failed, "submitting", actor=worker)
        lifecycle.fail_reel(session, failed, "x", "Broken.", actor=worker, expected=("submitting",))
    with db() as session:
        with pytest.raises(PermissionDenied, match="can cancel this reel"):
            lifecycle.cancel(session, queued_id, actor=ben_actor)
        with pytest.raises(PermissionDenied, match="can retry this reel"):
            lifecycle.retry(session, failed_id, actor=ben_actor)
    with db() as session:
        assert session.get(Reel, queued_id).status == "queued" and session.get(Reel, failed_id).status == "failed"


@pytest.mark.xfail(reason="intermittent: a page opened right after signing in sometimes shows the sign-in "
                          "screen again under heavy load; cause not found yet", strict=False)
def test_a_viewer_cannot_start_or_launch_and_an_admin_can_launch_anyones(people, app_server, db):
    sign_in(people, app_server, "ana@example.com")  # Ana exists whatever ran before
    vic = sign_in(people, app_server, "vic@example.com", "/Compose")
    with session_scope(db) as session:
        set_role(session, _user(db, "vic@example.com").id, "viewer", actor=ADMIN)
    ready = _ready_reel(db, "ana@example.com", "Ana's reel for the admin")
    go(vic, app_server, f"/Compose?c_reel={ready}")
    expect(key_button(vic, "c_new")).to_be_disabled()
    expect(key_button(vic, f"c_launch_{ready}")).to_be_disabled()
    expect(vic.get_by_test_id("stSidebar").get_by_text(re.compile(r"· Viewer$"))).to_be_visible()

    admin_page = sign_in(people, app_server, "admin@example.com", f"/Compose?c_reel={ready}")
    launch = key_button(admin_page, f"c_launch_{ready}")
    expect(launch).to_be_enabled()
    launch.click()
    expect(admin_page.get_by_text("Queued — the worker will submit it")).to_be_visible()
    with db() as session:
        assert session.get(Reel, ready).status != "draft"


def test_a_disallowed_domain_and_a_token_without_email_are_refused(people, app_server):
    mallory = sign_in(people, app_server, "mallory@evil.example")
    expect(mallory.get_by_text(re.compile(r"may not use Reel Studio:\W*only addresses at example\.com are allowed"))
           ).to_be_visible()
    expect(key_button(mallory, "signin_refused_logout")).to_be_visible()
    expect(mallory.get_by_test_id("stSidebar")).to_have_count(0)
    nomail = sign_in(people, app_server, "nomail")
    expect(nomail.get_by_text("did not send an email address")).to_be_visible()


def test_log_out_returns_to_the_sign_in_screen(people, app_server):
    ana = sign_in(people, app_server, "ana@example.com")
    key_button(ana, "logout").click()
    ana.wait_for_url("**/oauth2/end_session**")
    ana.get_by_role("button", name="End session").click()
    ana.wait_for_url(f"{app_server.url}/**")
    wait_for_app_run(ana)
    expect(key_button(ana, "signin")).to_be_visible()


def test_user_text_never_becomes_a_link_or_an_image(people, app_server, db):
    page = sign_in(people, app_server, "pay@example.com")  # display name = the payload
    requests: list[str] = []
    page.on("request", lambda r: requests.append(r.url))
    payer = actor_for(_user(db, "pay@example.com"))
    voice_id = SCENES[0].voice_id
    with session_scope(db) as session:
        draft = drafts.create_reel(session, actor=payer, title=PAYLOAD, scenes=[
            SceneInput(position=n, avatar_id=s.look_id, voice_id=s.voice_id, script=f"{PAYLOAD} {n}")
            for n, s in enumerate(SCENES, start=1)])
        failed = drafts.create_reel(session, actor=payer, title=PAYLOAD + " failed")
        save_annotation(session, voice_id, tags=["[x](https://evil.example)"], age_group=None, approved=True,
                        notes=PAYLOAD, actor=payer)
        draft_id, failed_id = draft.id, failed.id
    worker = worker_actor("e2e-worker")
    with session_scope(db) as session:
        reel = session.get(Reel, failed_id)
        lifecycle.transition(session, reel, "queued", actor=worker, expected=("draft",))
        lifecycle.transition(session, reel, "submitting", actor=worker)
        lifecycle.fail_reel(session, reel, "render_failed", PAYLOAD, actor=worker, expected=("submitting",))
    for path in ("/", f"/Compose?c_reel={draft_id}", "/Status", "/Videos", f"/Voices?v_voice={voice_id}"):
        go(page, app_server, path)
        page.wait_for_timeout(1500)
        bad = page.evaluate("""() => [...document.querySelectorAll('a[href], img[src]')]
            .map(e => new URL(e.getAttribute('href') || e.getAttribute('src'), location.href))
            .filter(u => /evil\\.example|tracker/.test(u.hostname)).map(u => u.href)""")
        assert bad == [], (path, bad)
    snap(page, "signin-payload-voices")
    assert not [u for u in requests if "evil.example" in u or "tracker" in u], requests


def test_no_identity_ever_appears_in_an_app_url(app_server):
    assert len(VISITED) > 10, "the tests above navigated"
    app_urls = [u for u in VISITED if u.startswith(app_server.url) and u not in TYPED]
    leaked = [u for u in app_urls if re.search(r"me=|@|%40|Ana|Ben|Vic|Mallory|Admin|nomail", u)]
    assert leaked == [], leaked
