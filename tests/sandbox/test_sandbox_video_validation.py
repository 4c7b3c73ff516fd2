"""``POST /v3/videos`` rejects bad bodies with 400 naming the param, and creates nothing."""

from __future__ import annotations

import pytest

from tests.sandbox.sandbox_support import Api, scene, studio_body


@pytest.fixture
def api(sandbox) -> Api:
    return Api(sandbox.url)


def _param(response) -> str:
    assert response.status_code == 400, response.text
    error = response.json()["error"]
    assert error["code"] == "invalid_parameter" and error["message"]
    return error["param"]


CASES = {
    "unknown top-level field": (studio_body(orientation="landscape"), "orientation"),
    "unknown scene field": (studio_body(scene(dimension={"width": 1})), "scenes.0.input.dimension"),
    "wrong enum": (studio_body(aspect_ratio="3:2"), "aspect_ratio"),
    "script too long": (studio_body(scene("x" * 5001)), "scenes.0.input.script"),
    "no scenes": ({"type": "studio", "scenes": []}, "scenes"),
    "51 scenes": (studio_body(*[scene() for _ in range(51)]), "scenes"),
    "unknown avatar": (studio_body(scene(avatar_id="Nobody_2020")), "scenes.0.input.avatar_id"),
    "unknown voice": (studio_body(scene(voice_id="0" * 32)), "scenes.0.input.voice_id"),
    "bad locale": (studio_body(scene(voice_settings={"locale": "fr-FR"})), "scenes.0.input.voice_settings.locale"),
    "made-up locale": (studio_body(scene(voice_settings={"locale": "en-XX"})), "scenes.0.input.voice_settings.locale"),
    "engine not supported by look": (studio_body(scene(engine={"type": "avatar_v"})), "scenes.0.input.engine.type"),
    "speed out of range": (studio_body(scene(voice_settings={"speed": 3})), "scenes.0.input.voice_settings.speed"),
    "bad colour": (studio_body(scene(background={"type": "color", "color": "red"})),
                   "scenes.0.input.background.color"),
    "second scene wrong": (studio_body(scene(), scene(voice_id="nope")), "scenes.1.input.voice_id"),
}


@pytest.mark.parametrize("body,param", CASES.values(), ids=CASES.keys())
def test_invalid_bodies_name_the_param(api, body, param) -> None:
    assert _param(api.create(body)) == param


def test_valid_body_is_accepted_and_invalid_ones_create_nothing(api) -> None:
    assert _param(api.create(studio_body(scene(voice_id="nope")))) == "scenes.0.input.voice_id"
    assert api.stats()["videos_created"] == 0
    r = api.create(studio_body(scene(voice_settings={"locale": "en-GB", "speed": 1.2})))
    assert r.status_code == 200 and r.json()["data"]["status"] == "waiting"
    assert api.stats()["videos_created"] == 1


def test_locale_on_a_voice_without_locale_support_is_rejected(api, sandbox) -> None:
    plain = next(v for v in sandbox.sandbox.catalog.voices if not v["support_locale"] and v["language"] == "English")
    body = studio_body(scene(voice_id=plain["voice_id"], voice_settings={"locale": "en-US"}))
    assert _param(api.create(body)) == "scenes.0.input.voice_settings.locale"


def test_malformed_json_is_validation_error(api) -> None:
    r = api.post("/v3/videos", data=b'{"type": "studio", ', headers={"Content-Type": "application/json"})
    assert r.status_code == 400 and r.json()["error"]["code"] == "validation_error"
    r = api.post("/v3/videos", json=[1, 2])
    assert r.status_code == 400 and r.json()["error"]["code"] == "validation_error"


def test_avatar_type_body_is_accepted(api) -> None:
    body = {"type": "avatar", "avatar_id": "Abigail_expressive_2024112501", "script": "Hello.",
            "voice_id": "cef3bc4e0a84424cafcde6f2cf466c97"}
    r = api.create(body)
    assert r.status_code == 200, r.text


def test_query_params_of_video_list_are_checked(api) -> None:
    r = api.get("/v3/videos", params={"limit": 101})
    assert r.status_code == 400 and r.json()["error"]["param"] == "limit"
    r = api.get("/v3/videos/statuses", params={"video_ids": ",".join(f"{i:032x}" for i in range(101))})
    assert r.status_code == 400 and r.json()["error"]["param"] == "video_ids"
