"""The sandbox catalog: legacy dumps converted into v3 voices, looks and groups (docs §9.2)."""

from __future__ import annotations

from collections import Counter

import pytest

from core.heygen.schemas import validate_response
from core.sandbox.catalog import CATALOG_EPOCH, PRIVATE_VOICE_IDS, load_sandbox_catalog

VOICE_KEYS = {"voice_id", "name", "language", "gender", "preview_audio_url", "support_pause", "support_locale",
              "type"}
PRIVATE_LOOKS = {"be3fa9320eef4681b9ca9513170cef1d", "1ea3792bec7c4dbc96c558185e6de19a"}


@pytest.fixture(scope="module")
def catalog():
    return load_sandbox_catalog()


@pytest.fixture(scope="module")
def with_photos():
    return load_sandbox_catalog(include_talking_photos=True)


def page(items):
    return {"data": items, "has_more": False, "next_token": None}


# -- voices ----------------------------------------------------------------------------------------


def test_voice_count_and_public_fields_only(catalog):
    assert len(catalog.voices) == 2326
    assert len({v["voice_id"] for v in catalog.voices}) == 2326
    assert all(set(v) == VOICE_KEYS for v in catalog.voices)


def test_dirty_voice_values_are_kept_raw(catalog):
    genders = Counter(v["gender"] for v in catalog.voices)
    languages = Counter(v["language"] for v in catalog.voices)
    assert genders["Male"] == 1 and genders["unknown"] == 77
    assert languages[""] == 75 and languages["Filipino "] == 8 and languages["Turkey"] == 1
    names = [v["name"] for v in catalog.voices]
    assert any(n.startswith("\n") for n in names)
    assert any("\u00a0" in n for n in names)
    assert sum(v["preview_audio_url"] is None for v in catalog.voices) == 6


def test_preview_audio_url_is_the_original_dump_url(catalog):
    urls = [v["preview_audio_url"] for v in catalog.voices if v["preview_audio_url"]]
    assert sum(u.startswith("s3://") for u in urls) == 8
    assert sum(u.startswith("/v1/") for u in urls) == 10


def test_the_two_chad_clones_are_private_and_first(catalog):
    private = [v for v in catalog.voices if v["type"] == "private"]
    assert [v["voice_id"] for v in catalog.voices[:2]] == [v["voice_id"] for v in private]
    assert {v["voice_id"] for v in private} == PRIVATE_VOICE_IDS
    assert {v["name"] for v in private} == {"chad"}


def test_voice_detail_shape(catalog):
    private = catalog.voice_detail(catalog.voices[0]["voice_id"])
    public = catalog.voice_detail("cef3bc4e0a84424cafcde6f2cf466c97")
    assert private["status"] == "complete" and private["created_at"] == CATALOG_EPOCH
    assert "status" not in public and "type" not in public and "support_locale" not in public
    assert sum(catalog.voice_detail(v["voice_id"])["support_interactive_avatar"] for v in catalog.voices) == 282
    with pytest.raises(KeyError):
        catalog.voice_detail("nope")


def test_hidden_engine_tag(catalog):
    engines = Counter(catalog.voice_engine(v["voice_id"]) for v in catalog.voices)
    assert engines == {"starfish": 2111, "elevenlabs": 215}
    assert catalog.voice_engine("cef3bc4e0a84424cafcde6f2cf466c97") == "starfish"
    assert all("engine" not in v and "_engine" not in v for v in catalog.voices)


def test_voices_validate_against_v3_schemas(catalog):
    assert validate_response("GET", "/v3/voices", page(catalog.voices)) == []
    for voice in catalog.voices[:3] + catalog.voices[-3:]:
        detail = {"data": catalog.voice_detail(voice["voice_id"])}
        assert validate_response("GET", "/v3/voices/{voice_id}", detail) == []


# -- looks and groups ------------------------------------------------------------------------------


def test_looks_are_deduplicated_in_dump_order(catalog):
    ids = [lk["id"] for lk in catalog.looks]
    assert len(ids) == len(set(ids)) == 1289
    assert set(ids[:2]) == PRIVATE_LOOKS
    assert ids[2] == "Abigail_expressive_2024112501"


def test_look_types_and_engines(catalog):
    by_type = Counter(lk["avatar_type"] for lk in catalog.looks)
    assert by_type == {"studio_avatar": 1287, "digital_twin": 2}
    twin = catalog.look("be3fa9320eef4681b9ca9513170cef1d")
    studio = catalog.look("Abigail_expressive_2024112501")
    assert twin["supported_api_engines"] == ["avatar_v", "avatar_iv", "avatar_iii"]
    assert twin["status"] == "completed" and twin["group_id"] == twin["id"]
    assert studio["supported_api_engines"] == ["avatar_iv", "avatar_iii"]
    assert (studio["group_id"], studio["status"], studio["tags"]) == ("Abigail", None, [])
    assert (studio["preferred_orientation"], studio["image_width"], studio["image_height"]) == (
        "landscape", 1920, 1080)


def test_groups_are_derived_from_looks(catalog):
    assert len(catalog.groups) == 179
    assert sum(g["looks_count"] for g in catalog.groups) == 1289
    abigail = catalog.group("Abigail")
    assert abigail["looks_count"] == len(catalog.looks_of_group("Abigail")) == 5
    assert abigail["gender"] == "female" and abigail["name"] == "Abigail"
    assert abigail["preview_image_url"] == catalog.look("Abigail_expressive_2024112501")["preview_image_url"]
    single = catalog.group("Daisy-insuit-20220818")
    assert single["looks_count"] == 1 and single["name"] == catalog.look("Daisy-insuit-20220818")["name"]
    assert catalog.group("be3fa9320eef4681b9ca9513170cef1d")["status"] == "completed"


def test_looks_and_groups_validate_against_v3_schemas(with_photos):
    assert validate_response("GET", "/v3/avatars/looks", page(with_photos.looks)) == []
    assert validate_response("GET", "/v3/avatars", page(with_photos.groups)) == []
    look = {"data": with_photos.look("Abigail_expressive_2024112501")}
    assert validate_response("GET", "/v3/avatars/looks/{look_id}", look) == []


def test_talking_photos_only_when_asked(catalog, with_photos):
    assert not any(lk["avatar_type"] == "photo_avatar" for lk in catalog.looks)
    photos = [lk for lk in with_photos.looks if lk["avatar_type"] == "photo_avatar"]
    assert len(photos) == 5658 and len(with_photos.looks) == 1289 + 5658
    assert len(with_photos.groups) == 179 + 5658
    photo = photos[0]
    assert (photo["group_id"], photo["gender"], photo["preview_video_url"]) == (photo["id"], None, None)
    assert (photo["preferred_orientation"], photo["image_width"], photo["image_height"]) == ("portrait", 1080, 1920)


def test_private_items_can_be_excluded():
    public = load_sandbox_catalog(include_private=False)
    assert len(public.voices) == 2324 and {v["type"] for v in public.voices} == {"public"}
    assert len(public.looks) == 1287 and len(public.groups) == 177
    assert public.voice(next(iter(PRIVATE_VOICE_IDS))) is None
    assert public.look("be3fa9320eef4681b9ca9513170cef1d") is None


def test_catalog_is_cached_per_process():
    assert load_sandbox_catalog() is load_sandbox_catalog()
