"""Owner and display names are limited to 200 characters where they enter core (the acting user), with a
clear sentence, on SQLite and PostgreSQL alike (PostgreSQL used to fail with a database error over 200)."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from core.access.actor import MAX_NAME_CHARS, ActorError
from core.models import Reel, ReelEvent
from core.reels.drafts import create_reel, duplicate_reel
from tests.people import person


def test_a_huge_owner_name_is_refused_and_nothing_is_written(session_factory) -> None:
    with session_factory() as session:
        with pytest.raises(ActorError, match="limited to 200 characters; this one has 100,000"):
            create_reel(session, actor=person("n" * 100_000))
        session.rollback()
        assert session.scalar(select(func.count()).select_from(Reel)) == 0
        assert session.scalar(select(func.count()).select_from(ReelEvent)) == 0


def test_the_longest_allowed_name_is_stored_whole(session_factory) -> None:
    name = "é" * MAX_NAME_CHARS
    with session_factory() as session:
        reel = create_reel(session, actor=person(name))
        session.commit()
        assert session.get(Reel, reel.id).owner == name
        with pytest.raises(ActorError):
            duplicate_reel(session, reel.id, actor=person(name + "x"))


def test_names_are_cleaned_once(session_factory) -> None:
    with session_factory() as session:
        reel = create_reel(session, actor=person("  Ana\u0000  Lima\n"))
        session.commit()
        assert reel.owner == "Ana Lima"
        with pytest.raises(ActorError, match="A name is needed"):
            create_reel(session, actor=person("   "))
