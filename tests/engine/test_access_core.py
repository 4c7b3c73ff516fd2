"""Every data-changing core function × role × owner, on SQLite and PostgreSQL.

For each function, four people try it on a reel owned by Ana: Ana as a viewer, Ana as a producer,
Ben (another producer) and an admin; then the worker. A refusal must raise PermissionDenied with
its one sentence and write nothing (same reels, events, attempts and annotations afterwards).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from core.access.actor import Actor
from core.access.permissions import PermissionDenied
from core.access.users import link_user, set_role
from core.catalog.annotations import save_annotation
from core.catalog.store import CatalogStore
from core.db import session_scope
from core.heygen.types import Speech, Video
from core.jobs import lifecycle, webhooks
from core.models import Reel, ReelAttempt, ReelEvent, SpeechSample, User, VoiceAnnotation
from core.reels import drafts, speech
from core.reels.validation import SceneInput
from tests.people import ADMIN, WORKER, person

STARFISH = "cef3bc4e0a84424cafcde6f2cf466c97"
ANA_VIEWER, ANA, BEN = person("Ana", "viewer"), person("Ana"), person("Ben")
PEOPLE = {"viewer (owner)": ANA_VIEWER, "producer (owner)": ANA, "producer (not owner)": BEN, "admin": ADMIN}


class FakeHeyGen:
    """The few HeyGen calls these functions make, answered locally."""

    def __init__(self) -> None:
        self.calls: list[str] = []

    def get_video(self, video_id: str) -> Video:
        self.calls.append("get_video")
        return Video(id=video_id, status="completed", duration=10.0, video_url="http://x/v.mp4?Expires=4102444800")

    def generate_speech(self, text, voice_id, **_kw) -> Speech:
        self.calls.append("generate_speech")
        return Speech(audio_url="/a.wav", duration=1.0)

    def download(self, url, dest):
        Path(dest).parent.mkdir(parents=True, exist_ok=True)
        Path(dest).write_bytes(b"RIFF")
        return Path(dest)

    def create_webhook_endpoint(self, url):
        self.calls.append("create_webhook_endpoint")
        return {"url": url}

    def rotate_webhook_secret(self, endpoint_id):
        self.calls.append("rotate_webhook_secret")

    def delete_webhook_endpoint(self, endpoint_id):
        self.calls.append("delete_webhook_endpoint")

    def list_voices(self, **_kw):
        self.calls.append("list_voices")
        return []

    def list_avatar_looks(self, **_kw):
        self.calls.append("list_avatar_looks")
        return []


@dataclass(frozen=True)
class Case:
    """``call(session, reel_id, actor, env)``; ``status`` of Ana's reel first; who may (by PEOPLE key)."""

    name: str
    status: str
    call: Callable[..., Any]
    allowed: frozenset[str]
    denial: str = ""  # the sentence for "producer (not owner)" (others are checked for being refused)
    worker_may: bool = False


OWNER_OR_ADMIN = frozenset({"producer (owner)", "admin"})
PRODUCERS = frozenset({"producer (owner)", "producer (not owner)", "admin"})
EVERYONE = frozenset(PEOPLE)
ADMINS = frozenset({"admin"})
NOBODY = frozenset()


def _scenes(n: int = 3) -> list[SceneInput]:
    return [SceneInput(i, script=f"Scene {i}.") for i in range(1, n + 1)]


def _annotate(s, rid, actor, env):
    return save_annotation(s, STARFISH, tags=["x"], age_group=None, approved=True, notes="n", actor=actor)


def _video(status: str) -> Video:
    return Video(id="v" * 32, status=status, duration=5.0, video_url="http://x/v.mp4")


CASES = [
    Case("create_reel", "draft", lambda s, rid, a, env: drafts.create_reel(s, actor=a, title="New"), PRODUCERS,
         "Viewers cannot create reels; ask an admin for the producer role."),
    Case("update_reel", "draft", lambda s, rid, a, env: drafts.update_reel(s, rid, actor=a, title="Changed"),
         OWNER_OR_ADMIN, "Only Ana (owner) or an admin can edit this reel."),
    Case("set_scenes", "draft", lambda s, rid, a, env: drafts.set_scenes(s, rid, _scenes(), actor=a),
         OWNER_OR_ADMIN, "Only Ana (owner) or an admin can edit this reel."),
    Case("add_scene", "studio-draft", lambda s, rid, a, env: drafts.add_scene(s, rid, actor=a), OWNER_OR_ADMIN,
         "Only Ana (owner) or an admin can edit this reel."),
    Case("remove_scene", "studio-draft", lambda s, rid, a, env: drafts.remove_scene(s, rid, 2, actor=a),
         OWNER_OR_ADMIN, "Only Ana (owner) or an admin can edit this reel."),
    Case("move_scene", "studio-draft", lambda s, rid, a, env: drafts.move_scene(s, rid, 1, 2, actor=a),
         OWNER_OR_ADMIN, "Only Ana (owner) or an admin can edit this reel."),
    Case("duplicate_reel", "completed", lambda s, rid, a, env: drafts.duplicate_reel(s, rid, actor=a),
         OWNER_OR_ADMIN, "Only Ana (owner) or an admin can duplicate this reel."),
    Case("delete_reel", "failed", lambda s, rid, a, env: drafts.delete_reel(s, rid, actor=a), OWNER_OR_ADMIN,
         "Only Ana (owner) or an admin can delete this reel."),
    Case("prefill", "draft", lambda s, rid, a, env: drafts.prefill(s, actor=a, reel_id=rid, voice_id=STARFISH),
         PRODUCERS, "Viewers cannot create reels; ask an admin for the producer role."),
    Case("launch", "draft", lambda s, rid, a, env: lifecycle.launch(s, rid, actor=a, index=env["index"]),
         OWNER_OR_ADMIN, "Only Ana (owner) or an admin can launch this reel."),
    Case("cancel", "queued", lambda s, rid, a, env: lifecycle.cancel(s, rid, actor=a), OWNER_OR_ADMIN,
         "Only Ana (owner) or an admin can cancel this reel."),
    Case("retry", "failed", lambda s, rid, a, env: lifecycle.retry(s, rid, actor=a), OWNER_OR_ADMIN,
         "Only Ana (owner) or an admin can retry this reel."),
    Case("refresh_links", "completed", lambda s, rid, a, env: lifecycle.refresh_links(s, env["client"], rid, actor=a),
         EVERYONE, worker_may=True),
    Case("save_annotation", "draft", _annotate, PRODUCERS,
         "Viewers cannot annotate voices; ask an admin for the producer role."),
    Case("speech_sample", "draft",
         lambda s, rid, a, env: speech.speech_sample(s, env["client"], env["tmp"], STARFISH, "Hi there", actor=a),
         PRODUCERS, "Viewers cannot generate speech samples; ask an admin for the producer role."),
    Case("catalog refresh", "draft",
         lambda s, rid, a, env: CatalogStore(env["client"], 60).get(refresh=True, actor=a), ADMINS,
         "Only an admin can refresh the catalog.", worker_may=True),
    Case("register webhook", "draft",
         lambda s, rid, a, env: webhooks.register_endpoint(env["client"], "https://x.example/h", actor=a), ADMINS,
         "Only an admin can manage webhooks."),
    Case("rotate webhook secret", "draft",
         lambda s, rid, a, env: webhooks.rotate_endpoint_secret(env["client"], "ep1", actor=a), ADMINS,
         "Only an admin can manage webhooks."),
    Case("delete webhook", "draft",
         lambda s, rid, a, env: webhooks.delete_endpoint(env["client"], "ep1", actor=a), ADMINS,
         "Only an admin can manage webhooks."),
    Case("set_role", "draft", lambda s, rid, a, env: set_role(s, env["users"]["ben"], "viewer", actor=a), ADMINS,
         "Only an admin can manage users and roles."),
    Case("link_user", "draft", lambda s, rid, a, env: link_user(s, env["users"]["old"], env["users"]["ben"], actor=a),
         ADMINS, "Only an admin can manage users and roles."),
    Case("transition", "queued",
         lambda s, rid, a, env: lifecycle.transition(s, s.get(Reel, rid), "submitting", actor=a), NOBODY,
         "People cannot process launched reels; Reel Studio's worker does that.", worker_may=True),
    Case("claim_queued", "queued", lambda s, rid, a, env: lifecycle.claim_queued(s, [rid], actor=a), NOBODY,
         "People cannot process launched reels; Reel Studio's worker does that.", worker_may=True),
    Case("note", "queued", lambda s, rid, a, env: lifecycle.note(s, s.get(Reel, rid), actor=a, detail="x"), NOBODY,
         "People cannot process launched reels; Reel Studio's worker does that.", worker_may=True),
    Case("apply_video", "pending",
         lambda s, rid, a, env: lifecycle.apply_video(s, s.get(Reel, rid), _video("completed"), actor=a), NOBODY,
         "People cannot process launched reels; Reel Studio's worker does that.", worker_may=True),
    Case("fail_reel", "pending",
         lambda s, rid, a, env: lifecycle.fail_reel(s, s.get(Reel, rid), "x", "Broken.", actor=a), NOBODY,
         "People cannot process launched reels; Reel Studio's worker does that.", worker_may=True),
]


#: How Ana's reel gets to each status: the worker's own transitions, as in production.
_WALK = {"queued": ["queued"], "pending": ["queued", "submitting", "pending"],
         "failed": ["queued", "submitting", "failed"], "completed": ["queued", "submitting", "pending", "completed"]}


def _ana_reel(session_factory, status: str) -> int:
    """A reel owned by Ana (created by her), walked to ``status`` by the worker."""
    with session_factory() as session:
        studio = status == "studio-draft"
        reel = drafts.create_reel(session, actor=ANA, title="Ana's reel", mode="studio" if studio else "scene_based",
                                  scenes=_scenes(2 if studio else 3))
        for step in _WALK.get(status, []):
            values = {"video_id": "v" * 32} if step == "pending" else {"attempt": 1} if step == "queued" else None
            lifecycle.transition(session, reel, step, actor=WORKER, expected=None, values=values)
        session.commit()
        return reel.id


def _snapshot(session_factory) -> tuple:
    with session_factory() as session:
        count = lambda model: session.scalar(select(func.count()).select_from(model))  # noqa: E731
        reels = tuple(session.execute(select(Reel.id, Reel.status, Reel.title, Reel.version, Reel.owner_id)
                                      .order_by(Reel.id)))
        roles = tuple(session.execute(select(User.id, User.role).order_by(User.id)))
        return (reels, roles, count(ReelEvent), count(ReelAttempt), count(VoiceAnnotation), count(SpeechSample))


def _users(session_factory) -> dict[str, int]:
    with session_scope(session_factory) as session:
        tag = uuid.uuid4().hex[:8]
        ben = User(email=f"ben-{tag}@example.com", display_name="Ben", role="producer", origin="sign-in")
        old = User(display_name="ben", role="producer", origin="imported")
        boss = User(email=f"boss-{tag}@example.com", display_name="Boss", role="admin", origin="sign-in")
        session.add_all([ben, old, boss])
        session.flush()
        return {"ben": ben.id, "old": old.id, "boss": boss.id}


def _try(session_factory, case: Case, actor: Actor, env: dict) -> Exception | None:
    rid = _ana_reel(session_factory, case.status)
    env["users"] = _users(session_factory)
    before = _snapshot(session_factory)
    calls_before = len(env["client"].calls)
    try:
        with session_scope(session_factory) as session:
            case.call(session, rid, actor, env)
    except PermissionDenied as exc:
        assert _snapshot(session_factory) == before, f"{case.name} by {actor.name} wrote something before refusing"
        assert len(env["client"].calls) == calls_before, f"{case.name} by {actor.name} called HeyGen before refusing"
        return exc
    return None


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_who_may_call_each_core_function(session_factory, catalog_index, tmp_path, case):
    env = {"client": FakeHeyGen(), "index": catalog_index, "tmp": tmp_path}
    for label, actor in PEOPLE.items():
        refused = _try(session_factory, case, actor, env)
        if label in case.allowed:
            assert refused is None, f"{case.name}: {label} was refused: {refused}"
        else:
            assert isinstance(refused, PermissionDenied), f"{case.name}: {label} was allowed"
            assert str(refused).endswith(".") and str(refused).count(". ") == 0
            if label == "producer (not owner)" and case.denial:
                assert str(refused) == case.denial
    refused = _try(session_factory, case, WORKER, env)
    assert (refused is None) is case.worker_may, f"{case.name}: the worker {'was refused' if refused else 'was allowed'}"


def test_viewer_owner_is_told_about_the_role_not_the_owner(session_factory, catalog_index, tmp_path):
    env = {"client": FakeHeyGen(), "index": catalog_index, "tmp": tmp_path}
    launch = next(c for c in CASES if c.name == "launch")
    refused = _try(session_factory, launch, ANA_VIEWER, env)
    assert str(refused) == "Viewers cannot launch this reel; ask an admin for the producer role."


def test_events_record_the_user_id_and_name(session_factory, catalog_index):
    rid = _ana_reel(session_factory, "draft")
    with session_scope(session_factory) as session:
        drafts.update_reel(session, rid, actor=ADMIN, title="By the admin")
    with session_factory() as session:
        last = session.scalars(select(ReelEvent).where(ReelEvent.reel_id == rid).order_by(ReelEvent.id.desc())).first()
        reel = session.get(Reel, rid)
    assert (last.actor, last.actor_id) == ("Admin", ADMIN.user_id)
    assert (reel.owner, reel.owner_id) == ("Ana", ANA.user_id)


def test_prefill_never_edits_someone_elses_draft(session_factory):
    rid = _ana_reel(session_factory, "draft")
    with session_scope(session_factory) as session:
        done = drafts.prefill(session, actor=BEN, reel_id=rid, voice_id=STARFISH)
    assert done.created and done.reel_id != rid
    with session_factory() as session:
        assert all(s.voice_id is None for s in session.get(Reel, rid).scenes)
        assert session.get(Reel, done.reel_id).owner_id == BEN.user_id
