"""The budget ledger: a launch reserves its estimate, completion spends the actual cost, failure releases.

One :class:`~core.models.Spend` entry per reel attempt, in the UTC month of its launch
(``YYYY-MM``). A workspace's month: ``spent`` (sum of ``spent`` entries), ``reserved`` (sum of
``reserved`` entries) and ``remaining = budget − spent − reserved``; the same per member against
their monthly cap.

:func:`reserve` is the one place that admits a launch against a budget. It first bumps
``workspaces.ledger_version`` of the reel's workspace (``UPDATE … SET ledger_version =
ledger_version + 1``): on PostgreSQL a row lock, on SQLite the database's write lock, held until the
caller commits or rolls back. So reservations of one workspace are serialised — of 20 concurrent
launches against a budget that allows 5, exactly 5 are admitted — while other workspaces wait only
for SQLite's single writer. Amounts are USD, rounded to cents.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from core.models import Reel, Spend, Workspace, WorkspaceMember, utcnow
from core.reels.pricing import billed_seconds


def month_of(now: datetime | None = None) -> str:
    """``"2026-12"``: the ledger month (UTC) of ``now``."""
    return (now or utcnow()).strftime("%Y-%m")


@dataclass(frozen=True)
class BudgetView:
    """One month of a budget: ``limit_usd`` (``None``: no budget), ``spent_usd``, ``reserved_usd``.

    ``remaining_usd`` is ``None`` without a limit; ``fraction`` (0–1, for a progress bar) is
    (spent + reserved) / limit, 0 without a limit.
    """

    limit_usd: float | None
    spent_usd: float
    reserved_usd: float

    @property
    def remaining_usd(self) -> float | None:
        """What is left this month (never below 0), or ``None`` without a limit."""
        if self.limit_usd is None:
            return None
        return max(0.0, round(self.limit_usd - self.spent_usd - self.reserved_usd, 2))

    @property
    def fraction(self) -> float:
        """Share of the limit used or held, 0–1."""
        if not self.limit_usd:
            return 1.0 if self.limit_usd == 0 and (self.spent_usd or self.reserved_usd) else 0.0
        return min(1.0, (self.spent_usd + self.reserved_usd) / self.limit_usd)

    def text(self) -> str:
        """``"$12.40 spent, $3.00 reserved, $84.60 left of $100.00 this month"``."""
        head = f"${self.spent_usd:,.2f} spent, ${self.reserved_usd:,.2f} reserved"
        if self.limit_usd is None:
            return head + " this month (no budget set)"
        return head + f", ${self.remaining_usd:,.2f} left of ${self.limit_usd:,.2f} this month"


def _sums(session: Session, *conditions) -> tuple[float, float]:
    rows = session.execute(select(Spend.state, func.coalesce(func.sum(Spend.amount_usd), 0.0))
                           .where(*conditions).group_by(Spend.state)).all()
    by_state = {state: float(total) for state, total in rows}
    return round(by_state.get("spent", 0.0), 2), round(by_state.get("reserved", 0.0), 2)


def workspace_budget(session: Session, workspace_id: int, now: datetime | None = None) -> BudgetView:
    """The workspace's budget this month (see :class:`BudgetView`)."""
    workspace = session.get(Workspace, workspace_id)
    spent, reserved = _sums(session, Spend.workspace_id == workspace_id, Spend.month == month_of(now))
    return BudgetView(workspace.monthly_budget_usd if workspace else None, spent, reserved)


def member_budget(session: Session, workspace_id: int, user_id: int | None, member: str,
                  now: datetime | None = None) -> BudgetView:
    """One member's month in the workspace against their cap (``user_id``, else by display name ``member``)."""
    who = Spend.user_id == user_id if user_id is not None else Spend.member == member
    spent, reserved = _sums(session, Spend.workspace_id == workspace_id, Spend.month == month_of(now), who)
    cap = None
    if user_id is not None:
        cap = session.scalar(select(WorkspaceMember.monthly_cap_usd).where(
            WorkspaceMember.workspace_id == workspace_id, WorkspaceMember.user_id == user_id))
    return BudgetView(cap, spent, reserved)


def _lock_ledger(session: Session, workspace_id: int) -> None:
    session.execute(update(Workspace).where(Workspace.id == workspace_id)
                    .values(ledger_version=Workspace.ledger_version + 1)
                    .execution_options(synchronize_session=False))


def refusal(estimate_usd: float, view: BudgetView, whose: str) -> str | None:
    """The sentence refusing ``estimate_usd`` against ``view`` (``whose``: "your team", "you"), or ``None``."""
    left = view.remaining_usd
    if left is None or estimate_usd <= left + 1e-9:
        return None
    return (f"This reel is estimated at ${estimate_usd:,.2f}; {whose} {'has' if whose != 'you' else 'have'} "
            f"${left:,.2f} left this month.")


def reserve(session: Session, reel: Reel, *, attempt: int, estimate_usd: float, member: str,
            user_id: int | None = None, now: datetime | None = None) -> str | None:
    """Hold ``estimate_usd`` for ``reel``'s attempt ``attempt`` if the workspace and the member can afford it.

    Locks the workspace's ledger first (see the module docstring), then checks the member's cap and
    the workspace's budget and writes a ``reserved`` :class:`Spend` entry. Does not commit: the caller
    commits the reservation together with the launch, or rolls both back.

    Returns:
        ``None`` when reserved; else the one sentence that refuses it, with the numbers (nothing written
        but the lock, which the caller's rollback releases).
    """
    now = now or utcnow()
    estimate_usd = round(max(0.0, estimate_usd or 0.0), 2)
    _lock_ledger(session, reel.workspace_id)
    mine = member_budget(session, reel.workspace_id, user_id, member, now)
    problem = refusal(estimate_usd, mine, "you") if user_id is not None else None
    problem = problem or refusal(estimate_usd, workspace_budget(session, reel.workspace_id, now), "your team")
    if problem:
        return problem
    values = {"workspace_id": reel.workspace_id, "user_id": user_id, "member": member[:200], "month": month_of(now),
              "state": "reserved", "estimate_usd": estimate_usd, "amount_usd": estimate_usd, "created_at": now,
              "settled_at": None}
    # A draft sent back (approval rejected) keeps its attempt number: its released entry is used again.
    reused = session.execute(update(Spend).where(Spend.reel_id == reel.id, Spend.attempt == attempt,
                                                 Spend.state == "released").values(**values)
                             .execution_options(synchronize_session=False)).rowcount
    if not reused:
        session.add(Spend(reel_id=reel.id, attempt=attempt, **values))
        session.flush()
    return None


def reserve_many(session: Session, workspace_id: int, entries: list[tuple[int, float]], *, member: str,
                 user_id: int | None = None, now: datetime | None = None) -> str | None:
    """:func:`reserve` for many new reels at once (a batch chunk): ``entries`` are ``(reel_id, estimate_usd)``.

    All or nothing: the refusal sentence names the total. Does not commit.
    """
    now = now or utcnow()
    total = round(sum(max(0.0, e) for _, e in entries), 2)
    _lock_ledger(session, workspace_id)
    mine = member_budget(session, workspace_id, user_id, member, now)
    team = workspace_budget(session, workspace_id, now)
    problem = (refusal(total, mine, "you") if user_id is not None else None) or refusal(total, team, "your team")
    if problem:
        return problem.replace("This reel is", f"These {len(entries):,} reels are")
    session.add_all([Spend(workspace_id=workspace_id, reel_id=reel_id, attempt=1, user_id=user_id,
                           member=member[:200], month=month_of(now), state="reserved",
                           estimate_usd=round(max(0.0, e), 2), amount_usd=round(max(0.0, e), 2), created_at=now)
                     for reel_id, e in entries])
    session.flush()
    return None


def actual_cost(reel: Reel, duration_s: float | None) -> float | None:
    """What HeyGen charges for the finished video: billed seconds × the reel's price per second.

    The price per second is the estimate's (its avatar types, engine and resolution from the price
    table): ``estimated_cost_usd / estimated_duration_s``. ``None`` when the duration or the estimate
    is unknown (the reservation then stands as the cost).
    """
    if duration_s is None or not math.isfinite(duration_s) or duration_s < 0:
        return None
    if not reel.estimated_duration_s or reel.estimated_cost_usd is None:
        return None
    rate = reel.estimated_cost_usd / reel.estimated_duration_s
    return round(billed_seconds(duration_s) * rate, 2)


def settle(session: Session, reel: Reel, duration_s: float | None, now: datetime | None = None) -> None:
    """The reel's current attempt completed: its reservation becomes the actual cost. Does not commit."""
    cost = actual_cost(reel, duration_s)
    values = {"state": "spent", "settled_at": now or utcnow()}
    if cost is not None:
        values["amount_usd"] = cost
    session.execute(update(Spend).where(Spend.reel_id == reel.id, Spend.attempt == reel.attempt,
                                        Spend.state == "reserved").values(**values)
                    .execution_options(synchronize_session=False))


def release(session: Session, reel_id: int, attempt: int, now: datetime | None = None) -> None:
    """The attempt failed, was cancelled or rejected: its reservation is released. Does not commit."""
    session.execute(update(Spend).where(Spend.reel_id == reel_id, Spend.attempt == attempt,
                                        Spend.state == "reserved")
                    .values(state="released", amount_usd=0.0, settled_at=now or utcnow())
                    .execution_options(synchronize_session=False))
