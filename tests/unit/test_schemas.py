"""Strict validation of HeyGen v3 bodies against the converted official schemas."""

from __future__ import annotations

import copy

import pytest
from jsonschema import Draft202012Validator

from core.heygen import schemas
from core.heygen.schemas import Violation, validate_query, validate_request, validate_response

VIDEOS = ("POST", "/v3/videos")
SPEECH = ("POST", "/v3/voices/speech")
VOICE = "cef3bc4e0a84424cafcde6f2cf466c97"


def avatar_scene(**input_fields) -> dict:
    fields = {"type": "avatar", "avatar_id": "Abigail_standing_office_front", "script": "Hello there.",
              "voice_id": VOICE}
    fields.update(input_fields)
    return {"type": "avatar_video", "input": {k: v for k, v in fields.items() if v is not ...}}


@pytest.fixture
def studio_body() -> dict:
    """docs/heygen-v3.md §4.4 without its image scene."""
    return {
        "type": "studio",
        "title": "Product intro",
        "resolution": "1080p",
        "aspect_ratio": "16:9",
        "caption": {"file_format": "srt"},
        "callback_id": "job-42",
        "scenes": [
            {"type": "avatar_video",
             "input": {"type": "avatar", "avatar_id": "Abigail_expressive_2024112501",
                       "script": "Hi! In the next minute I will show you what our app does.",
                       "voice_id": VOICE,
                       "voice_settings": {"speed": 1.0, "pitch": 0, "volume": 1.0, "locale": "en-GB"},
                       "background": {"type": "color", "color": "#F4F1EA"},
                       "engine": {"type": "avatar_iv"}}},
            {"type": "avatar_video",
             "input": {"type": "avatar", "avatar_id": "Abigail_standing_office_front",
                       "script": "That's it. Try it free today.",
                       "voice_id": VOICE,
                       "voice_settings": {"speed": 1.1, "locale": "en-GB"}}},
        ],
    }


def params(violations: list[Violation]) -> list[str]:
    return [v.param for v in violations]


def check(body) -> list[Violation]:
    return validate_request(*VIDEOS, body)


# -- conversion ------------------------------------------------------------------------------------


def test_every_endpoint_schema_converts_to_a_valid_json_schema():
    count = 0
    for ep in schemas.load_schemas()["endpoints"]:
        for get in (schemas.request_schema, schemas.response_schema):
            converted = get(ep["method"], ep["endpoint"])
            if converted is not None:
                Draft202012Validator.check_schema(converted)
                count += 1
    assert count == 30 + 80


def test_no_oneof_or_nullable_survives_conversion():
    text = repr(schemas.request_schema(*VIDEOS)) + repr(schemas.response_schema("GET", "/v3/videos/{video_id}"))
    assert "'oneOf'" not in text and "'nullable'" not in text and "'discriminator'" not in text


def test_request_objects_are_closed_but_response_objects_stay_open():
    req = schemas.request_schema(*SPEECH)
    resp = schemas.response_schema("GET", "/v3/videos/{video_id}")
    assert req["additionalProperties"] is False
    assert "additionalProperties" not in resp["properties"]["data"]


def test_endpoint_lookup_and_unknown_endpoint():
    assert schemas.endpoint("get", "/v3/voices")["paginated"] is True
    assert schemas.endpoint("GET", "/v2/voices") is None
    with pytest.raises(KeyError):
        validate_request("POST", "/v2/video/generate", {})


# -- POST /v3/videos ------------------------------------------------------------------------------


def test_docs_example_body_is_valid(studio_body):
    assert check(studio_body) == []


def test_docs_example_image_scene_is_valid_too(studio_body):
    image = {"type": "image", "source": {"type": "url", "url": "https://example.com/a.png"}, "duration": 4}
    studio_body["scenes"].insert(1, image)
    assert check(studio_body) == []


def test_unknown_top_level_field_is_rejected_by_name(studio_body):
    studio_body["dimension"] = {"width": 1280, "height": 720}
    assert check(studio_body) == [Violation("dimension", "dimension is not a known field.")]


def test_unknown_nested_field_is_rejected_with_dotted_param(studio_body):
    studio_body["scenes"][1]["input"]["voice_settings"]["emotion"] = "happy"
    studio_body["scenes"][0]["input"]["orientation"] = "portrait"
    assert params(check(studio_body)) == ["scenes.0.input.orientation",
                                          "scenes.1.input.voice_settings.emotion"]


def test_studio_rejects_output_format(studio_body):
    studio_body["output_format"] = "mp4"
    assert params(check(studio_body)) == ["output_format"]


def test_wrong_enum_names_allowed_values(studio_body):
    studio_body["aspect_ratio"] = "3:2"
    [violation] = check(studio_body)
    assert violation.param == "aspect_ratio"
    assert "'16:9'" in violation.message and "'auto'" in violation.message


def test_script_over_5000_characters_is_rejected(studio_body):
    studio_body["scenes"][0]["input"]["script"] = "a" * 5001
    assert check(studio_body) == [Violation("scenes.0.input.script",
                                            "scenes.0.input.script must be at most 5,000 characters.")]


def test_script_of_exactly_5000_characters_is_accepted(studio_body):
    studio_body["scenes"][0]["input"]["script"] = "a" * 5000
    assert check(studio_body) == []


@pytest.mark.parametrize("count", [0, 51])
def test_scene_count_outside_1_to_50_is_rejected(studio_body, count):
    studio_body["scenes"] = [avatar_scene() for _ in range(count)]
    assert check(studio_body) == [Violation("scenes", "scenes must contain 1 to 50 scenes.")]


def test_fifty_scenes_are_accepted(studio_body):
    studio_body["scenes"] = [avatar_scene() for _ in range(50)]
    assert check(studio_body) == []


@pytest.mark.parametrize("color", ["red", "#FFF", "#GGGGGG", "F4F1EA", "#F4F1EA0"])
def test_background_colour_must_be_rrggbb(studio_body, color):
    studio_body["scenes"][0]["input"]["background"]["color"] = color
    [violation] = check(studio_body)
    assert violation.param == "scenes.0.input.background.color"
    assert "#" in violation.message


@pytest.mark.parametrize(("field", "value"), [("speed", 0.4), ("speed", 1.6), ("pitch", -51), ("pitch", 51),
                                              ("volume", -0.1), ("volume", 1.01)])
def test_voice_settings_ranges(studio_body, field, value):
    studio_body["scenes"][0]["input"]["voice_settings"][field] = value
    assert params(check(studio_body)) == [f"scenes.0.input.voice_settings.{field}"]


def test_voice_settings_range_edges_are_accepted(studio_body):
    studio_body["scenes"][0]["input"]["voice_settings"].update(speed=0.5, pitch=-50, volume=0)
    studio_body["scenes"][1]["input"]["voice_settings"].update(speed=1.5, pitch=50, volume=1)
    assert check(studio_body) == []


def test_script_without_voice_id_is_rejected(studio_body):
    del studio_body["scenes"][1]["input"]["voice_id"]
    assert check(studio_body) == [Violation("scenes.1.input.voice_id",
                                            "scenes.1.input.voice_id is required when script is given.")]


def test_speaking_scene_needs_exactly_one_audio_source(studio_body):
    studio_body["scenes"][0] = avatar_scene(audio_url="https://example.com/a.mp3")
    studio_body["scenes"][1] = avatar_scene(script=..., voice_id=...)
    assert params(check(studio_body)) == ["scenes.0.input.audio_url", "scenes.1.input.script"]


def test_audio_url_alone_is_a_valid_audio_source(studio_body):
    studio_body["scenes"][0] = avatar_scene(script=..., voice_id=..., audio_asset_id="asset-1")
    assert check(studio_body) == []


def test_image_scene_duration_xor_audio_and_bounds(studio_body):
    source = {"type": "asset_id", "asset_id": "a1"}
    studio_body["scenes"] = [
        {"type": "image", "source": source, "duration": 3, "audio_url": "https://example.com/a.mp3"},
        {"type": "image", "source": source},
        {"type": "image", "source": source, "duration": 0},
        {"type": "image", "source": source, "duration": 300.5},
        {"type": "image", "source": source, "script": "Narrated.", "voice_id": VOICE},
    ]
    assert params(check(studio_body)) == ["scenes.0.duration", "scenes.1.script", "scenes.2.duration",
                                          "scenes.3.duration"]


def test_missing_required_field_names_the_missing_param(studio_body):
    del studio_body["scenes"][0]["input"]["avatar_id"]
    assert check(studio_body) == [Violation("scenes.0.input.avatar_id", "scenes.0.input.avatar_id is required.")]


def test_wrong_type_is_reported(studio_body):
    studio_body["scenes"][0]["input"]["voice_settings"]["speed"] = "fast"
    assert check(studio_body) == [Violation("scenes.0.input.voice_settings.speed",
                                            "scenes.0.input.voice_settings.speed must be a number.")]


# -- discriminated unions ------------------------------------------------------------------------


def test_unknown_discriminator_value_names_the_discriminator(studio_body):
    studio_body["scenes"][0]["input"]["engine"] = {"type": "avatar_vi"}
    [violation] = check(studio_body)
    assert violation.param == "scenes.0.input.engine.type"
    assert "'avatar_iv'" in violation.message


def test_unknown_body_type_is_the_only_error():
    assert params(check({"type": "slideshow", "scenes": []})) == ["type"]


def test_missing_discriminator_is_required():
    assert check({"scenes": []}) == [Violation("type", "type is required.")]


def test_errors_come_from_the_chosen_variant_only(studio_body):
    # A video scene with an avatar scene's field: only the video variant's complaints.
    studio_body["scenes"][0] = {"type": "video", "input": {"type": "avatar"}}
    assert params(check(studio_body)) == ["scenes.0.input", "scenes.0.source"]


def test_discriminator_dispatch_picks_each_variant(studio_body):
    studio_body["scenes"] = [
        {"type": "video", "source": {"type": "asset_id", "asset_id": "a1"}, "playback": {"volume": 0.5}},
        {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": "iVBOR"},
         "duration": 2},
        avatar_scene(engine={"type": "avatar_v", "reference_look_id": "look-1"}),
        {"type": "avatar_video", "input": {"type": "image", "image": {"type": "url", "url": "https://x/y.png"},
                                           "audio_url": "https://x/a.mp3"}},
    ]
    assert check(studio_body) == []


def test_variant_specific_fields_do_not_leak_between_variants(studio_body):
    studio_body["scenes"] = [
        avatar_scene(engine={"type": "avatar_iv", "reference_look_id": "look-1"}),
        {"type": "image", "source": {"type": "url", "asset_id": "a1"}, "duration": 2},
        {"type": "image", "source": {"type": "base64", "data": "iVBOR"}, "duration": 2},
    ]
    assert params(check(studio_body)) == ["scenes.0.input.engine.reference_look_id", "scenes.1.source.asset_id",
                                          "scenes.1.source.url", "scenes.2.source.media_type"]


def test_engine_settings_dispatch_on_engine_type(studio_body):
    settings = studio_body["scenes"][0]["input"]["voice_settings"]
    settings["engine_settings"] = {"engine_type": "elevenlabs", "model": "eleven_v3", "stability": 0.5}
    assert check(studio_body) == []
    settings["engine_settings"] = {"engine_type": "starfish", "stability": 0.5}
    assert params(check(studio_body)) == ["scenes.0.input.voice_settings.engine_settings.stability"]


def test_single_avatar_body_uses_value_background_and_allows_output_format():
    body = {"type": "avatar", "avatar_id": "Abigail_standing_office_front", "script": "Hi.", "voice_id": VOICE,
            "output_format": "webm", "background": {"type": "color", "value": "#000000"}}
    assert validate_request(*VIDEOS, body) == []
    body["background"] = {"type": "color", "color": "#000000"}
    assert params(validate_request(*VIDEOS, body)) == ["background.color"]


# -- nullable ------------------------------------------------------------------------------------


def test_nullable_fields_accept_null(studio_body):
    studio_body.update(resolution=None, title=None, caption=None)
    studio_body["scenes"][0]["input"].update(engine=None, background=None, voice_settings=None)
    assert check(studio_body) == []


def test_non_nullable_field_rejects_null(studio_body):
    studio_body["scenes"][0]["input"]["avatar_id"] = None
    assert check(studio_body) == [Violation("scenes.0.input.avatar_id",
                                            "scenes.0.input.avatar_id must be a string.")]


def test_nullable_enum_lists_only_real_values(studio_body):
    studio_body["resolution"] = "8k"
    [violation] = check(studio_body)
    assert violation.message == "resolution must be one of '4k', '1080p', '720p'."


# -- batches, speech, bodies of other endpoints ----------------------------------------------------


def test_batch_items_get_the_same_cross_field_rules(studio_body):
    bad = copy.deepcopy(studio_body)
    del bad["scenes"][0]["input"]["voice_id"]
    body = {"videos": [studio_body, bad]}
    assert params(validate_request("POST", "/v3/videos/batches", body)) == ["videos.1.scenes.0.input.voice_id"]
    assert params(validate_request("POST", "/v3/videos/batches", {"videos": []})) == ["videos"]


def test_speech_body_rules():
    ok = {"text": "Hello.", "voice_id": VOICE, "speed": 2.0, "locale": "en-GB", "input_type": "text"}
    assert validate_request(*SPEECH, ok) == []
    assert params(validate_request(*SPEECH, {**ok, "text": ""})) == ["text"]
    assert params(validate_request(*SPEECH, {**ok, "text": "x" * 5001})) == ["text"]
    assert params(validate_request(*SPEECH, {**ok, "speed": 2.01})) == ["speed"]
    assert params(validate_request(*SPEECH, {**ok, "speed": 0.49})) == ["speed"]
    assert params(validate_request(*SPEECH, {"text": "Hi", "pitch": 3})) == ["pitch", "voice_id"]


def test_body_must_be_an_object():
    assert check(["studio"]) == [Violation("body", "body must be an object.")]


def test_endpoint_without_body_schema_accepts_only_empty_body():
    path = "/v3/webhooks/endpoints/{endpoint_id}/rotate-secret"
    assert validate_request("POST", path, None) == []
    assert params(validate_request("POST", path, {"x": 1})) == ["body"]


# -- query parameters ----------------------------------------------------------------------------


def test_query_limit_bounds_and_enums():
    assert validate_query("GET", "/v3/voices", {"limit": "100", "type": "private"}) == []
    assert validate_query("GET", "/v3/voices", {"limit": "101"}) == [
        Violation("limit", "limit must be between 1 and 100.")]
    assert params(validate_query("GET", "/v3/avatars/looks", {"limit": "51", "avatar_type": "cartoon"})) == [
        "avatar_type", "limit"]
    assert params(validate_query("GET", "/v3/voices", {"limit": "ten"})) == ["limit"]
    assert validate_query("GET", "/v3/avatars/looks", {"limit": "", "ownership": "", "unknown": "x"}) == []


# -- responses -----------------------------------------------------------------------------------


def test_video_response_sample_validates():
    payload = {"data": {
        "id": "0f3c8a1e9b7d4c2a8e6f5d4c3b2a1908", "status": "completed", "title": "Product intro",
        "created_at": 1763700000, "completed_at": 1763700420, "duration": 21.5, "folder_id": None,
        "video_url": "https://example.com/v.mp4?Expires=1&Signature=x", "captioned_video_url": None,
        "subtitle_url": "https://example.com/v.srt", "thumbnail_url": "https://example.com/t.jpg",
        "gif_url": None, "video_page_url": "https://app.heygen.com/videos/x", "failure_code": None,
        "failure_message": None, "output_language": None, "a_future_field": 1}}
    assert validate_response("GET", "/v3/videos/{video_id}", payload) == []


def test_video_response_problems_are_reported():
    payload = {"data": {"status": "waiting", "duration": "21s"}}
    problems = validate_response("GET", "/v3/videos/{video_id}", payload)
    assert problems == ["data.duration must be a number or null.", "data.id is required.",
                        "data.status must be one of 'pending', 'processing', 'completed', 'failed'."]


def test_response_discriminator_uses_always_pattern():
    payload = {"data": [{"type": "icon", "id": "1", "url": "u"}, {"type": "gif", "id": "2", "url": "u"}],
               "has_more": False, "next_token": None}
    assert validate_response("GET", "/v3/assets/search", payload) == [
        "data.1.type must be one of 'icon', 'image'."]
