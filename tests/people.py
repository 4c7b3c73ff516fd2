"""People and processes for tests: ``person("ana")`` is the same producer (same user id) in every call.

The user ids are stable per name (across processes too) and need no ``users`` row (reels point at users
by id without a foreign key). ``WORKER`` is a worker process; ``ADMIN`` an admin.
"""

from __future__ import annotations

import zlib

from core.access.actor import Actor, worker_actor


def user_id(name: str) -> int:
    """The stable test user id of ``name`` (case-insensitive; the same in every process)."""
    return 1000 + zlib.crc32(name.lower().encode()) % 1_000_000


def person(name: str, role: str = "producer") -> Actor:
    """A signed-in person called ``name`` with ``role`` (producer by default)."""
    return Actor(name, kind="user", verified=True, user_id=user_id(name), email=f"{name.lower()}@example.com",
                 role=role)


WORKER = worker_actor("test-worker")
ADMIN = person("Admin", "admin")


def signed_in(session, name: str, role: str | None = None) -> Actor:
    """The actor of ``name`` as if signed in as ``<name>@example.com`` (a real ``users`` row, created on
    first use), so reels made with it belong to the person an AppTest or browser test signs in as."""
    from core.access.users import SignInPolicy, actor_for, sign_in

    policy = SignInPolicy(default_role=role or "producer", admin_emails=frozenset({"admin@example.com"}))
    user = sign_in(session, {"email": f"{name.lower()}@example.com", "name": name}, policy)
    if role and user.role != role:
        user.role = role
        session.flush()
    return actor_for(user)
