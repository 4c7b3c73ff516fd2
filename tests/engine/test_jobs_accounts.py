"""The worker with several HeyGen accounts: two sandbox instances, one key each, plus a failing account.

Each workspace's reels are sent only with its own key (each sandbox's own stats count only its
reels), concurrency is capped per account, and an account answering 402 holds no one else back.
"""

from __future__ import annotations

import dataclasses
import time
from dataclasses import dataclass

import requests
from cryptography.fernet import Fernet
from sqlalchemy import select

from core.access import workspaces as ws
from core.access.actor import Actor
from core.access.keys import KeyBox
from core.config import SANDBOX_API_KEY, Settings
from core.heygen import HeyGenClient
from core.jobs import accounts, lifecycle
from core.jobs.worker import Worker
from core.models import Reel, Workspace
from tests.engine.test_jobs_lifecycle import make_reel


@dataclass(frozen=True)
class Person(Actor):
    user_id: int | None = None
    role: str = "viewer"


ADMIN = Person("Root", user_id=1, role="admin")
KEYS = {"Marketing": "marketing-account-key-1", "Support": "support-account-key-22", "HR": "hr-account-key-333"}


def stats(server) -> dict:
    return requests.get(f"{server.url}/_sandbox/stats", timeout=10).json()


def setup_accounts(session_factory, sandbox_factory):
    servers = {"Marketing": sandbox_factory(api_keys=(KEYS["Marketing"],)),
               "Support": sandbox_factory(api_keys=(KEYS["Support"],)),
               "HR": sandbox_factory(api_keys=(KEYS["HR"],), faults="POST /v3/videos:402=1.0"),
               "Default": sandbox_factory()}
    box = KeyBox.from_secrets([Fernet.generate_key().decode()])
    by_key = {KEYS[name]: servers[name] for name in KEYS} | {SANDBOX_API_KEY: servers["Default"]}
    made: list[tuple[str, str]] = []

    def make_client(base_url: str, key: str) -> HeyGenClient:
        made.append((base_url, key))
        return HeyGenClient(key, base_url=by_key[key].url, cache_location=None, max_retries=0)

    ids = {}
    with session_factory() as session:
        for name, key in KEYS.items():
            team = ws.create_workspace(session, name, actor=ADMIN)
            accounts.save_api_key(session, team.id, key, actor=ADMIN, box=box, check=lambda k: None, mode="sandbox")
            ids[name] = team.id
        session.get(Workspace, ids["Marketing"]).concurrency = 2
        session.commit()
    default_client = HeyGenClient(SANDBOX_API_KEY, base_url=servers["Default"].url, cache_location=None,
                                  max_retries=0)
    pool = accounts.Accounts(session_factory, default_client, make_client,
                             base_urls={"sandbox": "http://sandbox.invalid", "live": "http://live.invalid"},
                             box=box, default_concurrency=10, sandbox_install=True)
    return servers, ids, pool, made


def launch_in(session_factory, catalog_index, workspace_id: int, n: int) -> list[int]:
    reel_ids = [make_reel(session_factory, workspace_id=workspace_id, owner="Root") for _ in range(n)]
    with session_factory() as session:
        for reel_id in reel_ids:
            assert lifecycle.launch(session, reel_id, actor=ADMIN, index=catalog_index).ok
    return reel_ids


def statuses(session_factory, reel_ids) -> list[str]:
    with session_factory() as session:
        return sorted(session.scalars(select(Reel.status).where(Reel.id.in_(reel_ids))))


def test_each_workspace_is_sent_with_its_own_key_capped_per_account_and_a_failing_one_is_isolated(
        session_factory, sandbox_factory, catalog_index):
    servers, ids, pool, made = setup_accounts(session_factory, sandbox_factory)
    marketing = launch_in(session_factory, catalog_index, ids["Marketing"], 5)
    support = launch_in(session_factory, catalog_index, ids["Support"], 3)
    hr = launch_in(session_factory, catalog_index, ids["HR"], 2)
    default = launch_in(session_factory, catalog_index, 1, 1)
    settings = dataclasses.replace(Settings(), poll_interval_s=0.01, heygen_concurrency=10)
    worker = Worker(session_factory, pool.default_client, settings, name="w1", accounts=pool,
                    index_provider=lambda: catalog_index)
    worker.run_once()
    assert stats(servers["Marketing"])["videos_created"] == 2  # its own cap of 2
    assert stats(servers["Support"])["videos_created"] == 3
    assert statuses(session_factory, hr) == ["failed", "queued"]  # 402 stops only HR's sending this cycle
    for _ in range(300):
        worker.run_once()
        if statuses(session_factory, marketing + support + default + hr) == ["completed"] * 9 + ["failed"] * 2:
            break
        time.sleep(0.05)
    assert statuses(session_factory, marketing + support + default) == ["completed"] * 9
    for name, reel_ids in (("Marketing", marketing), ("Support", support), ("Default", default)):
        own = stats(servers[name])
        assert own["videos_created"] == len(reel_ids), name
        assert own["requests"].get("GET /v3/videos/statuses", 0) >= 1, name
    with session_factory() as session:
        hr_reels = session.scalars(select(Reel).where(Reel.id.in_(hr))).all()
        assert {r.failure_code for r in hr_reels} == {"insufficient_credit"}
        video_ids = {name: set(session.scalars(select(Reel.video_id).where(Reel.id.in_(reel_ids))))
                     for name, reel_ids in (("Marketing", marketing), ("Support", support))}
    assert not video_ids["Marketing"] & video_ids["Support"]
    assert stats(servers["HR"])["videos_created"] == 0
    assert sorted(key for _, key in made) == sorted(KEYS.values())  # one client per workspace key


def test_a_workspace_without_a_key_in_a_live_install_is_never_sent_with_another_key(
        session_factory, sandbox, catalog_index):
    box = KeyBox.from_secrets([Fernet.generate_key().decode()])
    with session_factory() as session:
        team = ws.create_workspace(session, "Legal", actor=ADMIN)
    default_client = HeyGenClient(SANDBOX_API_KEY, base_url=sandbox.url, cache_location=None, max_retries=0)
    pool = accounts.Accounts(session_factory, default_client, lambda url, key: None, base_urls={"live": sandbox.url},
                             box=box, sandbox_install=False)
    [reel_id] = launch_in(session_factory, catalog_index, team.id, 1)
    worker = Worker(session_factory, default_client, dataclasses.replace(Settings(), poll_interval_s=0.01),
                    accounts=pool, index_provider=lambda: catalog_index)
    worker.run_once()
    with session_factory() as session:
        reel = session.get(Reel, reel_id)
        assert (reel.status, reel.failure_code) == ("failed", "no_api_key")
    assert stats(sandbox)["videos_created"] == 0
