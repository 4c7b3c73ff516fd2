"""Avatars page against the real sandbox: gallery, URL-bound filters, pagination, detail view.

Expected looks are computed here from the client's own look list, never with the page's filter.
"""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from core.heygen.types import AvatarLook
from core.models import Scene
from core.runtime import Runtime

PAGE = "pages/2_Avatars.py"
PAGE_SIZE = 24


@pytest.fixture(scope="module")
def looks(app_runtime: Runtime) -> list[AvatarLook]:
    unique: dict[str, AvatarLook] = {}
    for look in app_runtime.client.list_avatar_looks():
        unique.setdefault(look.id, look)
    return list(unique.values())


def _card_ids(at) -> list[str]:
    return [b.key.removeprefix("a_open_") for b in at.button if (b.key or "").startswith("a_open_")]


def _count_caption(at) -> str:
    return next(c.value for c in at.caption if "avatar looks" in c.value)


def _check(at, expected: list[str], total: int) -> None:
    assert not at.exception
    assert expected, "the catalog should have matching looks"
    assert _count_caption(at).startswith(f"**{len(expected):,}** of {total:,} avatar looks")
    assert _card_ids(at) == expected[:PAGE_SIZE]


RULES = {
    "female": ({"a_gender": ["female"]}, lambda lk: (lk.gender or "").lower() == "female"),
    "digital twin": ({"a_type": ["digital_twin"]}, lambda lk: lk.avatar_type == "digital_twin"),
    "avatar_v": ({"a_engine": ["avatar_v"]}, lambda lk: "avatar_v" in lk.supported_api_engines),
    "private": ({"a_own": ["private"]}, lambda lk: lk.status is not None or lk.avatar_type == "digital_twin"),
    "landscape": ({"a_orient": ["landscape"]}, lambda lk: (lk.preferred_orientation or "").lower() == "landscape"),
    "search": ({"a_q": ["abigail"]}, lambda lk: "abigail" in f"{lk.name} {lk.id} {lk.group_id}".lower()),
    "female+search": ({"a_gender": ["female"], "a_q": ["upper body"]},
                      lambda lk: (lk.gender or "").lower() == "female" and "upper body" in lk.name.lower()),
}


def test_gallery_renders_first_page(open_page, looks) -> None:
    at = open_page(PAGE)
    _check(at, [lk.id for lk in looks], len(looks))
    assert len(at.get("imgs")) >= 1 or at.get("image")


@pytest.mark.parametrize("rule", list(RULES))
def test_each_filter_from_the_url_narrows_the_gallery(open_page, looks, rule) -> None:
    query, pred = RULES[rule]
    at = open_page(PAGE, query=query)
    _check(at, [lk.id for lk in looks if pred(lk)], len(looks))


def test_widgets_filter_and_clear(open_page, looks) -> None:
    at = open_page(PAGE)
    at.multiselect(key="a_engine").select("avatar_v").run()
    _check(at, [lk.id for lk in looks if "avatar_v" in lk.supported_api_engines], len(looks))
    at.button(key="a_clear").click().run()
    _check(at, [lk.id for lk in looks], len(looks))


def test_page_from_the_url_shows_the_next_cards(open_page, looks) -> None:
    at = open_page(PAGE, query={"a_page": ["2"]})
    assert not at.exception
    assert _card_ids(at) == [lk.id for lk in looks][PAGE_SIZE:2 * PAGE_SIZE]
    assert "page 2 of" in _count_caption(at)


def test_details_and_use_in_a_reel(open_page, app_runtime, looks) -> None:
    look = next(lk for lk in looks if lk.avatar_type == "studio_avatar")
    at = open_page(PAGE)
    at.button(key=f"a_open_{look.id}").click().run()
    assert not at.exception
    assert any(look.id in c.value for c in at.code)
    facts = " ".join(m.value for m in at.markdown)
    assert f"{look.image_width:,} × {look.image_height:,} px" in facts and "Avatar IV" in facts
    at.button(key="a_use").click().run()
    assert not at.exception
    with app_runtime.session_factory() as s:
        assert s.scalar(select(func.count()).select_from(Scene).where(Scene.avatar_id == look.id)) >= 1


def test_unknown_look_in_the_link_is_explained(open_page) -> None:
    at = open_page(PAGE, query={"a_look": ["no_such_look"]})
    assert not at.exception
    assert any("not in HeyGen's catalog" in i.value for i in at.info)
