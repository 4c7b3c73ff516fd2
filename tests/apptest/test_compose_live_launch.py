"""Live mode (a HeyGen key is set): Launch first says what it will spend, and only the confirmation launches.

"HeyGen" here is the sandbox on loopback, reached as a live account would reach api.heygen.com.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import select

from core.catalog.store import load_catalog
from core.catalog.tables import is_starfish_id
from core.config import SANDBOX_API_KEY
from core.db import session_scope
from core.models import Reel
from core.reels import drafts, validation
from core.reels import estimate as estimates
from core.runtime import Runtime, get_runtime, reset_runtime
from core.sandbox import SandboxConfig, start_in_thread
from tests.people import signed_in

PAGE = "pages/3_Compose.py"


@pytest.fixture(scope="module")
def app_runtime(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Runtime]:
    """A live-mode runtime whose HeyGen is a loopback sandbox; no worker, so a launch stays queued."""
    server = start_in_thread(SandboxConfig(time_scale=0.01, api_keys=(SANDBOX_API_KEY,),
                                           state_dir=tmp_path_factory.mktemp("live-heygen")))
    mp = pytest.MonkeyPatch()
    mp.setenv("DATA_DIR", str(tmp_path_factory.mktemp("live-data")))
    mp.setenv("HEYGEN_API_KEY", SANDBOX_API_KEY)
    mp.setenv("HEYGEN_BASE_URL", server.url)
    mp.setenv("WORKER_MODE", "off")
    for name in ("DATABASE_URL", "HTTP_CACHE_URL"):
        mp.delenv(name, raising=False)
    reset_runtime()
    runtime = get_runtime()
    assert not runtime.settings.sandbox
    yield runtime
    reset_runtime()
    mp.undo()
    server.stop()


def test_live_launch_asks_with_the_estimate_first(open_page, app_runtime: Runtime) -> None:
    catalog = load_catalog(app_runtime.client)
    looks = [lk.id for lk in catalog.looks if "avatar_iv" in lk.supported_api_engines][:3]
    voices = [v.voice_id for v in catalog.voices if is_starfish_id(v.voice_id)][:3]
    with session_scope(app_runtime.session_factory) as s:
        rid = drafts.create_reel(s, actor=signed_in(s, "Lu"), title="Paid reel", scenes=[
            validation.SceneInput(position=n, avatar_id=looks[n - 1], voice_id=voices[n - 1], script="word " * 20)
            for n in (1, 2, 3)]).id
    at = open_page(PAGE, user="Lu", query={"c_reel": str(rid)})
    assert not at.exception
    at.button(key=f"c_launch_{rid}").click().run()
    assert not at.exception
    with app_runtime.session_factory() as s:
        reel = s.get(Reel, rid)
        reel.scenes  # noqa: B018
        assert reel.status == "draft"  # nothing spent yet
        cost = estimates.cents(estimates.estimate_reel(reel, catalog.index).cost_usd)
    assert any(f"for about ${cost:,.2f}" in m.value for m in at.markdown)
    assert any("your balance is $" in c.value for c in at.caption)
    at.button(key=f"c_launch_no_{rid}").click().run()  # "Not yet" changes nothing
    assert not [b for b in at.button if b.key == f"c_launch_yes_{rid}"]
    at.button(key=f"c_launch_{rid}").click().run()
    at.button(key=f"c_launch_yes_{rid}").click().run()
    assert not at.exception
    assert any("Queued" in s.value for s in at.success)
    with app_runtime.session_factory() as s:
        assert s.scalar(select(Reel.status).where(Reel.id == rid)) == "queued"
