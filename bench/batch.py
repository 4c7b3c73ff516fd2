"""Batches at 10,000 rows: preview (render + check every row), launch (our own time), board tick.

- ``preview``: :func:`core.reels.batches.preview_batch` over 10,000 rows of a three-scene template with
  three variables (Jinja2 rendering, validation against the real catalog index, estimate per row).
  Target ≤ 2 s.
- ``launch``: :func:`core.jobs.batches.launch_batch` making 10,000 queued reels (reels, scenes,
  attempts, events, row links) on SQLite; no HTTP is involved. Target ≤ 10 s.
- ``tick``: one :class:`core.board.store.BoardStore` refresh of the batch's board after one reel of the
  batch changed (the batch launched ten minutes earlier), against a floor of re-reading the same rows with one SELECT (the board's own query
  without the store). Target ≤ 1.3× (as the status board benchmark; the page's drawing is the same).

``--small``: 500 rows.
"""

from __future__ import annotations

import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

import pandas as pd
from _common import figure, median, ms, parser, quiet

AVATAR_ID = "Abigail_expressive_2024112501"
VOICE_ID = "cef3bc4e0a84424cafcde6f2cf466c97"
SCRIPTS = ["Hi {{ first_name | title }}, welcome to {{ team }}.", "Your manager is {{ manager }}.",
           "{% if vip == 'yes' %}You are on the VIP plan.{% else %}Enjoy your first week.{% endif %}"]


def main() -> int:
    args = parser(__doc__.splitlines()[0]).parse_args()
    quiet()
    from sqlalchemy import update

    from core.access.actor import Actor
    from core.board.rows import BoardFilter, board_statement, raw_frame
    from core.board.store import BoardStore
    from core.catalog.index import CatalogIndex
    from core.db import make_engine, make_session_factory, migrate
    from core.heygen.types import AvatarLook, Voice
    from core.jobs import batches as batch_jobs
    from core.models import Reel, utcnow
    from core.reels.batches import create_batch, preview_batch, save_as_template
    from core.reels.drafts import create_reel
    from core.reels.validation import SceneInput
    from core.sandbox.catalog import load_sandbox_catalog

    n = 500 if args.small else 10_000
    catalog = load_sandbox_catalog()
    index = CatalogIndex([Voice.model_validate(v) for v in catalog.voices],
                         [AvatarLook.model_validate(lk) for lk in catalog.looks])
    folder = Path(tempfile.mkdtemp(prefix="bench-batch-"))
    engine = make_engine(f"sqlite:///{folder / 'bench.db'}")
    migrate(engine)
    factory = make_session_factory(engine)
    ana = Actor("Ana", verified=True, user_id=1, role="producer")
    with factory() as session:
        reel = create_reel(session, actor=ana, title="Welcome {{ first_name }}",
                           scenes=[SceneInput(i, AVATAR_ID, VOICE_ID, s) for i, s in enumerate(SCRIPTS, 1)])
        template = save_as_template(session, reel.id, actor=ana)
        session.commit()
        template_id = template.id
    rows = pd.DataFrame({"first_name": [f"person {i}" for i in range(n)], "team": [f"Team {i % 9}" for i in range(n)],
                         "manager": ["Bea"] * n, "vip": ["yes" if i % 4 == 0 else "no" for i in range(n)]})

    with factory() as session:
        template = session.get(Reel, template_id)
        timings = []
        for _ in range(3):
            started = time.perf_counter()
            preview = preview_batch(template, rows, index)
            timings.append(time.perf_counter() - started)
    assert len(preview.launchable) == n, preview.rows[0].problems
    figure("rows", f"{n:,}")
    figure("preview_median", f"{median(timings):.2f} s (target ≤ 2 s at 10,000 rows)")

    with factory() as session:
        batch = create_batch(session, template_id, rows, actor=ana, file_name="bench.csv")
        session.commit()
        batch_id = batch.id
    with factory() as session:
        started = time.perf_counter()
        report = batch_jobs.launch_batch(session, batch_id, actor=ana, index=index)
        launch_s = time.perf_counter() - started
    assert report.created == n, report.message
    figure("launch", f"{launch_s:.2f} s for {n:,} reels, {ms(launch_s / n)} per reel (target ≤ 10 s at 10,000)")

    with factory() as session:  # the batch was launched a while ago (steady state, not the launch minute)
        session.execute(update(Reel).values(updated_at=utcnow() - timedelta(minutes=10)))
        session.commit()
    store, f = BoardStore(factory), BoardFilter(batch_id=batch_id)
    store.get(f)
    ticks, floors = [], []
    with factory() as session:
        ids = [r for (r,) in session.execute(board_statement(f).with_only_columns(Reel.id).limit(50))]
    for k in range(15):
        with factory() as session:
            session.execute(update(Reel).where(Reel.id == ids[k % len(ids)]).values(title=f"changed {k}"))
            session.commit()
        store.expire()
        started = time.perf_counter()
        store.get(f)
        ticks.append(time.perf_counter() - started)
        started = time.perf_counter()
        with factory() as session:
            raw_frame(session.execute(board_statement(f)).all())
        floors.append(time.perf_counter() - started)
    tick, floor = median(ticks[3:]), median(floors[3:])
    figure("tick_median", f"{ms(tick)} (one changed reel, store refresh)")
    figure("floor_median", f"{ms(floor)} (re-read the batch's {n:,} rows)")
    figure("tick_ratio", f"{tick / floor:.2f} (target ≤ 1.3)")
    met = median(timings) <= 2.0 * n / 10_000 and launch_s <= 10.0 * n / 10_000 and tick / floor <= 1.3
    print(f"RESULT: preview {median(timings):.2f} s, launch {launch_s:.2f} s, tick {tick / floor:.2f}× "
          f"{'PASS' if met else 'MISS'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
