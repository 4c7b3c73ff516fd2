"""Status page: each queued reel's place in the queue, interactive launches before batch reels."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import update

from core.models import Reel
from tests.apptest.reel_states import make_reel

PAGE = "pages/4_Status.py"


def test_the_board_shows_each_queued_reels_place_with_interactive_first(open_page, app_runtime):
    if app_runtime.worker is not None:
        app_runtime.worker.stop()  # it would send the queued reels
    with app_runtime.session_factory() as session:
        old_batch = [make_reel(session, f"Catalogue {n}", "queued", owner="Bruno",
                               ago=timedelta(minutes=30 - n)).id for n in range(3)]
        other_batch = make_reel(session, "Chen's batch row", "queued", owner="Chen", ago=timedelta(minutes=20)).id
        launched = make_reel(session, "Launched from Compose", "queued", owner="Ana", ago=timedelta(minutes=1)).id
        rendering = make_reel(session, "Already rendering", "processing", owner="Ana").id
        session.execute(update(Reel).where(Reel.id.in_([*old_batch, other_batch])).values(priority="batch"))
        session.commit()
    at = open_page(PAGE)
    assert not at.exception, at.exception
    table = at.dataframe[0].value.set_index("id")
    # Ana's launch first; then Bruno's oldest and Chen's only row take turns; then Bruno's others.
    assert table.loc[launched, "queue"] == 1
    assert [table.loc[i, "queue"] for i in (old_batch[0], other_batch, old_batch[1], old_batch[2])] == [2, 3, 4, 5]
    assert str(table.loc[rendering, "queue"]) in ("nan", "<NA>", "None")
