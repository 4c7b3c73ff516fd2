"""core.board.store.BoardStore on SQLite and PostgreSQL: an incremental board equals a fresh load_board.

Every case changes the database the way the app does (launch, worker transitions, deletes of
drafts, rows inserted behind the store's back), asks the store for a refreshed board and compares
it with :func:`core.board.rows.load_board` at the same instant.
"""

from __future__ import annotations

from datetime import timedelta

import pandas as pd
import pytest
from sqlalchemy import delete, insert, update

from core import models
from core.board import rows as board_rows
from core.board import store as board_store
from core.board.rows import BoardFilter, load_board
from core.board.store import BoardStore
from core.jobs import lifecycle
from core.models import Reel
from tests.apptest.reel_states import make_reel
from tests.engine.test_board_queries import SEED
from tests.people import WORKER, signed_in


@pytest.fixture
def seeded(session_factory):
    ids = {}
    with session_factory() as session:
        for title, status, owner, ago in SEED:
            ids[title] = make_reel(session, title, status, owner=owner, ago=ago,
                                   failure=("INSUFFICIENT_CREDIT", "Top up.") if status == "failed" else None).id
    return session_factory, ids


@pytest.fixture
def frozen(monkeypatch):
    """The store's and load_board's clock, settable (aware UTC)."""
    state = {"now": models.utcnow()}
    monkeypatch.setattr(board_rows, "utcnow", lambda: state["now"])
    monkeypatch.setattr(board_store, "utcnow", lambda: state["now"])
    return state


def fresh(store: BoardStore, f: BoardFilter) -> pd.DataFrame:
    store.expire()
    frame, _ = store.get(f, stuck_after_minutes=30)
    return frame


def assert_same_as_load_board(store: BoardStore, f: BoardFilter, frozen: dict) -> pd.DataFrame:
    got = fresh(store, f)
    with store.session_factory() as session:
        want, _ = load_board(session, f, stuck_after_minutes=30, now=frozen["now"])
    assert list(got.columns) == board_rows.FRAME_COLUMNS
    pd.testing.assert_frame_equal(got.reset_index(drop=True), want.reset_index(drop=True), check_dtype=False)
    return got


FILTERS = [BoardFilter(), BoardFilter(statuses=("queued", "processing")), BoardFilter(owner="Ana"),
           BoardFilter(query="e")]


@pytest.mark.parametrize("f", FILTERS, ids=["all", "statuses", "owner", "text"])
def test_incremental_board_follows_every_kind_of_change(seeded, frozen, f):
    factory, ids = seeded
    store = BoardStore(factory)
    assert_same_as_load_board(store, f, frozen)
    loaded = store._peek((f, 30.0, board_rows.BOARD_LIMIT)).loaded

    frozen["now"] += timedelta(seconds=40)  # only time passes: progress and stages move on
    assert_same_as_load_board(store, f, frozen)

    with factory() as session:  # the worker moves reels on; a reel leaves the "queued" filter
        for title, to in (("Waiting", "submitting"), ("Update", "completed")):
            reel = session.get(Reel, ids[title])
            assert lifecycle.transition(session, reel, to, actor=WORKER)
        session.commit()
    assert_same_as_load_board(store, f, frozen)

    with factory() as session:  # a new reel, and a failed one queued again
        new = make_reel(session, "Brand new", "draft", owner="Ana", ago=timedelta(0))
        owner = session.get(Reel, ids["Tour"]).owner
        assert lifecycle.retry(session, ids["Tour"], actor=signed_in(session, owner)).ok
    assert_same_as_load_board(store, f, frozen)
    assert store._peek((f, 30.0, board_rows.BOARD_LIMIT)).loaded == loaded  # so far incremental only

    with factory() as session:  # a draft is deleted
        session.execute(delete(Reel).where(Reel.id == new.id))
        session.commit()
    assert_same_as_load_board(store, f, frozen)
    assert store._peek((f, 30.0, board_rows.BOARD_LIMIT)).loaded > loaded  # rebuilt: the count did not add up


def test_rows_inserted_with_an_old_timestamp_appear(seeded, frozen):
    factory, _ = seeded
    store = BoardStore(factory)
    assert_same_as_load_board(store, BoardFilter(), frozen)
    old = frozen["now"] - timedelta(days=2)
    with factory() as session:
        session.execute(insert(Reel), [{"title": "Imported", "owner": "Ana", "status": "completed",
                                        "created_at": old, "updated_at": old}])
        session.commit()
    got = assert_same_as_load_board(store, BoardFilter(), frozen)
    assert "Imported" in set(got["title"])


def test_frames_are_shared_for_two_seconds_and_not_changed_later(seeded, frozen):
    factory, ids = seeded
    store = BoardStore(factory)
    first, _ = store.get(BoardFilter(), stuck_after_minutes=30)
    snapshot = first.copy(deep=True)
    with factory() as session:
        session.execute(update(Reel).where(Reel.id == ids["Tour"]).values(title="Tour (renamed)"))
        session.commit()
    again, _ = store.get(BoardFilter(), stuck_after_minutes=30)
    assert again is first  # within SHARE_SECONDS: the same frame, no read
    later = fresh(store, BoardFilter())
    assert "Tour (renamed)" in set(later["title"])
    pd.testing.assert_frame_equal(first, snapshot)  # a handed-out frame never changes


def _limited(store: BoardStore, f: BoardFilter, frozen: dict, limit: int) -> pd.DataFrame:
    store.expire()
    got, _ = store.get(f, stuck_after_minutes=30, limit=limit)
    with store.session_factory() as session:
        want, _ = load_board(session, f, stuck_after_minutes=30, now=frozen["now"], limit=limit)
    pd.testing.assert_frame_equal(got.reset_index(drop=True), want.reset_index(drop=True), check_dtype=False)
    return got


def test_a_truncated_board_follows_changes_and_new_reels_without_a_rebuild(seeded, frozen):
    factory, ids = seeded
    limit = len(SEED) - 2  # the two oldest reels are beyond the board's limit
    store = BoardStore(factory)
    key = (BoardFilter(), 30.0, limit)
    _limited(store, BoardFilter(), frozen, limit)
    loaded = store._peek(key).loaded

    shown = set(store._peek(key).frame["title"])
    on_board, beyond = next(t for t in ids if t in shown), next(t for t in ids if t not in shown)
    frozen["now"] += timedelta(seconds=5)
    with factory() as session:  # one reel on the board and one beyond its limit change
        for title in (on_board, beyond):
            session.execute(update(Reel).where(Reel.id == ids[title]).values(
                title=f"{title} (renamed)", updated_at=frozen["now"]))
        session.commit()
    got = _limited(store, BoardFilter(), frozen, limit)
    assert len(got) == limit
    assert {f"{on_board} (renamed)", f"{beyond} (renamed)"} <= set(got["title"])

    with factory() as session:  # new reels push the oldest ones off the board
        for n in range(3):
            make_reel(session, f"New {n}", "draft", owner="Ana", ago=timedelta(0))
    got = _limited(store, BoardFilter(), frozen, limit)
    assert len(got) == limit
    assert store._peek(key).loaded == loaded  # incremental all along


def test_a_truncated_board_that_loses_a_reel_takes_the_next_one(seeded, frozen):
    factory, ids = seeded
    limit = 2  # Ana has three reels
    f = BoardFilter(owner="Ana")
    store = BoardStore(factory)
    before = _limited(store, f, frozen, limit)
    assert len(before) == limit
    with factory() as session:  # a reel of the board leaves the filter
        session.execute(update(Reel).where(Reel.id == int(before["id"].iloc[0])).values(
            owner="Someone else", updated_at=frozen["now"]))
        session.commit()
    after = _limited(store, f, frozen, limit)
    assert len(after) == limit and int(before["id"].iloc[0]) not in set(after["id"])


def test_a_full_board_that_gains_reels_keeps_its_limit(seeded, frozen):
    factory, _ = seeded
    limit = len(SEED)  # every reel fits, with no room left
    store = BoardStore(factory)
    _limited(store, BoardFilter(), frozen, limit)
    with factory() as session:
        for n in range(2):
            make_reel(session, f"New {n}", "draft", owner="Ana", ago=timedelta(0))
    got = _limited(store, BoardFilter(), frozen, limit)
    assert len(got) == limit and {"New 0", "New 1"} <= set(got["title"])
