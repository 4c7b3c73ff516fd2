"""core.catalog against the real 2026-02-26 HeyGen catalog dumps (voices and avatars).

The dumps are v2-shaped; each test module converts them to v3 objects itself (``preview_audio`` ->
``preview_audio_url``; avatars -> looks as in heygen-v3.md §9.2) so it depends on no other module.
Filters are checked against plain-Python row-by-row computations over the raw records.
"""

from __future__ import annotations

import gzip
import json
import re
import unicodedata
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace

import pytest

from bench._common import synthetic_voices
from core.access.permissions import PermissionDenied
from core.catalog import store as catalog_store
from core.catalog import tables
from core.catalog.index import CatalogIndex
from core.catalog.normalise import (
    ALL_LOCALES,
    LOCALES,
    STYLE_WORDS,
    clean_voice_name,
    locale_label,
    locales_for,
    normalise_gender,
    normalise_language,
)
from core.catalog.tables import (
    LookFilter,
    VoiceFilter,
    facet_counts,
    filter_looks,
    filter_voices,
    looks_frame,
    voices_frame,
)
from core.heygen.types import AvatarLook, Voice
from tests.people import ADMIN, person

DATA = Path(__file__).resolve().parents[2] / "core" / "data"
HEX32 = re.compile(r"^[0-9a-f]{32}$")
PRIVATE_VOICES = 2  # the two "chad" clones listed first


def _load(name: str) -> dict:
    with gzip.open(DATA / name, "rt", encoding="utf-8") as fh:
        return json.load(fh)["data"]


@pytest.fixture(scope="module")
def raw_voices() -> list[dict]:
    return _load("voices_2026-02-26.json.gz")["voices"]


@pytest.fixture(scope="module")
def voices(raw_voices) -> list[Voice]:
    return [
        Voice(
            voice_id=r["voice_id"],
            name=r["name"],
            language=r["language"],
            gender=r["gender"],
            preview_audio_url=r["preview_audio"],
            support_pause=r["support_pause"],
            support_locale=r["support_locale"],
            type="private" if i < PRIVATE_VOICES else "public",
        )
        for i, r in enumerate(raw_voices)
    ]


@pytest.fixture(scope="module")
def annotations(raw_voices) -> dict:
    """Team notes on a few voices: both dicts and attribute objects, as the ORM rows would be."""
    ids = [r["voice_id"] for r in raw_voices]
    return {
        ids[5]: {
            "tags": ["brand", " narrator "],
            "age_group": "adult",
            "approved": True,
            "notes": "Warm CEO read",
        },
        ids[6]: SimpleNamespace(tags=["brand"], age_group="senior", approved=False, notes=""),
        ids[7]: SimpleNamespace(tags=[], age_group=None, approved=True, notes="kids explainer"),
        ids[100]: {"tags": ["promo", "brand", "brand"], "approved": True},
    }


@pytest.fixture(scope="module")
def frame(voices, annotations):
    return voices_frame(voices, annotations)


@pytest.fixture(scope="module")
def raw_avatars() -> dict:
    return _load("avatars_2026-02-26.json.gz")


@pytest.fixture(scope="module")
def looks(raw_avatars) -> list[AvatarLook]:
    out = []
    for a in raw_avatars["avatars"]:
        twin = bool(HEX32.match(a["avatar_id"]))
        out.append(
            AvatarLook(
                id=a["avatar_id"],
                name=a["avatar_name"],
                avatar_type="digital_twin" if twin else "studio_avatar",
                group_id=a["avatar_id"] if twin else a["avatar_id"].split("_")[0],
                gender=a["gender"],
                preview_image_url=a["preview_image_url"],
                preview_video_url=a["preview_video_url"],
                preferred_orientation="landscape",
                image_width=1920,
                image_height=1080,
                supported_api_engines=(["avatar_v"] if twin else []) + ["avatar_iv", "avatar_iii"],
                status="completed" if twin else None,
            )
        )
    for t in raw_avatars["talking_photos"]:
        out.append(
            AvatarLook(
                id=t["talking_photo_id"],
                name=t["talking_photo_name"],
                avatar_type="photo_avatar",
                group_id=t["talking_photo_id"],
                preview_image_url=t["preview_image_url"],
                preferred_orientation="portrait",
                image_width=1080,
                image_height=1920,
                supported_api_engines=["avatar_iv", "avatar_iii"],
            )
        )
    return out


# ------------------------------------------------------------------ normalisation on real values


def test_language_normalisation_counts_on_real_dump(raw_voices):
    counts = Counter(normalise_language(r["language"]) for r in raw_voices)
    assert counts["English"] == 1405 + 4  # "English" + "en"
    assert counts["Unknown"] == 75 + 55  # "" + "unknown"
    assert counts["Turkish"] == 12 + 1  # + "Turkey"
    assert (counts["Filipino"], counts["Hungarian"], counts["Indonesian"]) == (12, 6, 20)
    assert "en" not in counts and "Turkey" not in counts and "" not in counts
    assert all(name == name.strip() and name[0].isupper() for name in counts)
    assert len(counts) == 57 - 6  # "" + "unknown", "en", "Turkey" and 3 trailing-space names merge


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("", "Unknown"),
        ("  ", "Unknown"),
        (None, "Unknown"),
        ("unknown", "Unknown"),
        ("UNKNOWN", "Unknown"),
        ("en", "English"),
        (" EN ", "English"),
        ("en-GB", "English"),
        ("pt_BR", "Portuguese"),
        ("fr", "French"),
        ("sw", "Kiswahili"),
        ("bn", "Bangla"),
        ("Turkey", "Turkish"),
        ("Filipino ", "Filipino"),
        ("german", "German"),
        ("SPANISH", "Spanish"),
        ("Multilingual", "Multilingual"),
        ("Kiswahili", "Kiswahili"),
        ("Swahili", "Kiswahili"),
        ("Bengali", "Bangla"),
        ("Norwegian", "Norwegian"),
    ],
)
def test_normalise_language(raw, expected):
    assert normalise_language(raw) == expected


def test_gender_counts_on_real_dump(raw_voices):
    counts = Counter(normalise_gender(r["gender"]) for r in raw_voices)
    assert counts == {"male": 1198, "female": 1051, "unknown": 77}


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("male", "male"),
        ("Male", "male"),
        (" FEMALE ", "female"),
        ("unknown", "unknown"),
        ("", "unknown"),
        (None, "unknown"),
        ("robot", "unknown"),
    ],
)
def test_normalise_gender(raw, expected):
    assert normalise_gender(raw) == expected


def _is_emoji_or_invisible(ch: str) -> bool:
    return (
        unicodedata.category(ch) in ("So", "Cf", "Sk") or ch in "\ufe0f\u00a0" or (ch.isspace() and ch != " ")
    )


def test_clean_names_are_clean_and_never_empty(raw_voices):
    dirty = [r["name"] for r in raw_voices if r["name"] != r["name"].strip() or "\u00a0" in r["name"]]
    with_emoji = [r["name"] for r in raw_voices if any(unicodedata.category(c) == "So" for c in r["name"])]
    assert len(dirty) >= 25 and len(with_emoji) == 201  # the test really meets the dirt
    for r in raw_voices:
        name, style = clean_voice_name(r["name"])
        assert name and name == name.strip() and "  " not in name, r["name"]
        assert not any(_is_emoji_or_invisible(c) for c in name), r["name"]
        assert style is None or not any(_is_emoji_or_invisible(c) for c in style.replace(" ", ""))


@pytest.mark.parametrize(
    ("raw", "name", "style"),
    [
        ("Derya - Lifelike - Excited 🤩", "Derya", "Lifelike · Excited"),
        ("Georgia - Lifelike - Friendly 😊", "Georgia", "Lifelike · Friendly"),
        ("\nAllison\u00a0 ", "Allison", None),
        ("Saanu\u00a0 ", "Saanu", None),
        ("Warrior Rohan - Broadcaster 🎙️", "Warrior Rohan", "Broadcaster"),
        ("Calm Eva - Soothing 🌼", "Calm Eva", "Soothing"),
        ("Glenn-Natural", "Glenn", "Natural"),
        ("WanLung -  Natural", "WanLung", "Natural"),
        ("Ann - Professional - Public", "Ann - Public", "Professional"),
        ("Annie - PVC - Excited", "Annie - PVC", "Excited"),
        ("Jessica - Voice 1", "Jessica - Voice 1", None),
        ("Marcel - UGC -4.mp4", "Marcel - UGC -4.mp4", None),
        ("Robo-Rex", "Robo-Rex", None),
        ("Lucas Inside —\u00a0black hoodie", "Lucas Inside — black hoodie", None),
        ("Casual Chris", "Casual Chris", None),
    ],
)
def test_style_extraction_on_real_names(raw_voices, raw, name, style):
    assert raw in {r["name"] for r in raw_voices}
    assert clean_voice_name(raw) == (name, style)


@pytest.mark.parametrize("raw", ["", "🤩", "  \u200b "])
def test_empty_names_get_a_placeholder(raw):
    assert clean_voice_name(raw) == ("Unnamed voice", None)


def test_style_words_cover_frequent_dash_suffixes(raw_voices):
    """Every alphabetic word that follows a name dash at least 3 times is a style, except take markers."""
    take_markers = {"Voice", "UGC", "IA", "PVC", "Public"}
    suffixes = Counter()
    for r in raw_voices:
        for segment in re.split(r"\s*[-\u2013\u2014]\s*", r["name"].strip())[1:]:
            word = "".join(c for c in segment if unicodedata.category(c) != "So").split()
            if len(word) == 1 and word[0].isalpha():
                suffixes[word[0]] += 1
    frequent = {w for w, n in suffixes.items() if n >= 3} - take_markers
    assert frequent and frequent <= set(STYLE_WORDS)
    assert not take_markers & set(STYLE_WORDS)


def test_style_counts_match_raw_suffixes(raw_voices, frame):
    styles = facet_counts(frame, "styles")
    for word in ("Natural", "Friendly", "Excited", "Professional"):
        pattern = re.compile(rf"[-\u2013\u2014]\s*{word}\b")
        assert styles[word] == sum(1 for r in raw_voices if pattern.search(r["name"]))
    assert (styles["Natural"], styles["Friendly"], styles["Excited"], styles["Professional"]) == (
        172,
        99,
        93,
        64,
    )


# ------------------------------------------------------------------ locales


def test_locale_table_matches_reference():
    assert len(LOCALES) == 36
    assert LOCALES["English"][:3] == ["en-US", "en-GB", "en-AU"] and len(LOCALES["English"]) == 12
    assert LOCALES["Spanish"][-1] == "es-419" and len(LOCALES["Spanish"]) == 8
    assert LOCALES["Italian"] == ["it-IT", "it-CH"] and LOCALES["Dutch"] == ["nl-NL", "nl-BE"]
    assert LOCALES["Hindi"] == ["hi-IN"] and LOCALES["Bangla"] == ["bn-BD", "bn-IN"]
    assert LOCALES["Urdu"] == ["ur-PK", "ur-IN"] and LOCALES["Tamil"] == ["ta-IN", "ta-LK"]
    assert LOCALES["Kiswahili"] == ["sw-KE", "sw-TZ"] and LOCALES["Norwegian"] == ["nb-NO"]
    assert LOCALES["Chinese"] == ["zh-CN", "zh-TW", "zh-HK"] and len(LOCALES["Arabic"]) == 10
    assert len(ALL_LOCALES) == len(set(ALL_LOCALES)) == sum(map(len, LOCALES.values())) == 77


@pytest.mark.parametrize(
    ("language", "support", "expected"),
    [
        ("English", True, LOCALES["English"]),
        ("en", True, LOCALES["English"]),
        ("Turkey", True, ["tr-TR"]),
        ("English", False, []),
        ("Bulgarian", True, []),
        ("", True, []),
        ("unknown", True, []),
        ("Multilingual", True, list(ALL_LOCALES)),
        ("Multilingual", False, []),
    ],
)
def test_locales_for(language, support, expected):
    assert locales_for(language, support) == expected


def test_locales_for_returns_a_fresh_list():
    locales_for("German", True).append("xx-XX")
    assert locales_for("German", True) == ["de-DE", "de-AT", "de-CH"]


@pytest.mark.parametrize(
    ("tag", "label"),
    [
        ("en-GB", "English (United Kingdom)"),
        ("en-US", "English (United States)"),
        ("es-419", "Spanish (Latin America)"),
        ("zh-HK", "Chinese (Hong Kong, Cantonese)"),
        ("pt-BR", "Portuguese (Brazil)"),
        ("fil-PH", "Filipino (Philippines)"),
        ("sw-TZ", "Kiswahili (Tanzania)"),
        ("nb-NO", "Norwegian (Norway)"),
        ("en-gb", "English (United Kingdom)"),
        ("xx-YY", "xx (YY)"),
    ],
)
def test_locale_label(tag, label):
    assert locale_label(tag) == label


def test_every_offered_locale_has_a_real_label():
    for tag in ALL_LOCALES:
        assert "(" in locale_label(tag) and tag.split("-")[1] not in locale_label(tag), tag


# ------------------------------------------------------------------ voices frame


#: Public columns of voices_frame, in display order (internal columns start with ``_``).
PUBLIC_VOICE_COLUMNS = [
    "voice_id",
    "name",
    "raw_name",
    "language",
    "raw_language",
    "gender",
    "style",
    "styles",
    "accents",
    "accent_labels",
    "has_preview",
    "preview_url",
    "support_pause",
    "support_locale",
    "type",
    "engine",
    "tags",
    "age_group",
    "approved",
    "notes",
]


def _usable(url):
    return bool(url) and (url.startswith("https://") or url.startswith("http://"))


def test_voices_frame_shape_and_values(raw_voices, frame):
    assert len(frame) == 2326 and frame["voice_id"].is_unique
    assert list(frame.columns[: len(PUBLIC_VOICE_COLUMNS)]) == PUBLIC_VOICE_COLUMNS
    assert frame["voice_id"].tolist() == [r["voice_id"] for r in raw_voices]
    assert frame["raw_name"].tolist() == [r["name"] for r in raw_voices]
    assert frame["raw_language"].tolist() == [r["language"] for r in raw_voices]
    assert facet_counts(frame, "engine") == {"starfish": 2111, "third-party": 215}
    assert facet_counts(frame, "type") == {"public": 2326 - PRIVATE_VOICES, "private": PRIVATE_VOICES}
    expected_preview = [_usable(r["preview_audio"]) for r in raw_voices]
    assert frame["has_preview"].tolist() == expected_preview
    assert sum(expected_preview) == 2326 - 6 - 10 - 8  # null, relative /v1 path, s3:// URI
    assert frame.loc[~frame["has_preview"], "preview_url"].isna().all()
    assert frame["support_pause"].sum() == 2


def test_voices_frame_accents_follow_language_and_support_locale(raw_voices, frame):
    for r, accents, labels in zip(raw_voices, frame["accents"], frame["accent_labels"], strict=True):
        assert accents == locales_for(r["language"], r["support_locale"])
        assert labels == [locale_label(t) for t in accents]
    # In this dump every Multilingual voice has support_locale false and ""/unknown voices offer nothing.
    assert not frame.loc[frame["language"].isin(["Multilingual", "Unknown"]), "accents"].map(len).any()
    multilingual = Voice(voice_id="m" * 20, language="Multilingual", support_locale=True)
    assert voices_frame([multilingual])["accents"][0] == list(ALL_LOCALES)


def test_voices_frame_team_columns(frame, annotations):
    by_id = frame.set_index("voice_id")
    first, second, third, fourth = annotations
    assert by_id.at[first, "tags"] == ["brand", "narrator"] and by_id.at[first, "approved"]
    assert by_id.at[second, "age_group"] == "senior" and not by_id.at[second, "approved"]
    assert by_id.at[fourth, "tags"] == ["promo", "brand"] and by_id.at[fourth, "notes"] == ""
    assert frame["approved"].sum() == 3 and frame["tags"].map(len).sum() == 5
    assert voices_frame([]).empty


# ------------------------------------------------------------------ filters vs plain Python


def _reference_ids(raw_voices, annotations, f: VoiceFilter) -> list[str]:
    """Row-by-row evaluation of a VoiceFilter over the raw records (the specification)."""
    out = []
    for i, r in enumerate(raw_voices):
        ann = annotations.get(r["voice_id"])
        get = (
            (ann.get if isinstance(ann, dict) else lambda k, d=None, a=ann: getattr(a, k, d)) if ann else None
        )
        tags = list(dict.fromkeys(t.strip() for t in (get("tags") or []))) if get else []
        age = get("age_group") if get else None
        notes = (get("notes") or "") if get else ""
        name, style = clean_voice_name(r["name"])
        styles = style.split(" · ") if style else []
        language = normalise_language(r["language"])
        accents = locales_for(r["language"], r["support_locale"])
        text = " ".join([name, *styles, language, r["voice_id"], notes, *tags]).lower()
        checks = [
            not f.languages or language in {normalise_language(x) for x in f.languages},
            not f.genders or normalise_gender(r["gender"]) in f.genders,
            not f.accents or bool(set(accents) & set(f.accents)),
            not f.styles or bool(set(styles) & set(f.styles)),
            f.has_preview is None or _usable(r["preview_audio"]) == f.has_preview,
            not f.tags or bool(set(tags) & set(f.tags)),
            not f.approved_only or bool(get and get("approved")),
            not f.age_groups or age in f.age_groups or (age is None and "unspecified" in f.age_groups),
            not f.types or ("private" if i < PRIVATE_VOICES else "public") in f.types,
            all(term in text for term in f.query.lower().split()),
        ]
        if all(checks):
            out.append(r["voice_id"])
    return out


FILTERS = {
    "spanish-female-es-MX": VoiceFilter(languages=("Spanish",), genders=("female",), accents=("es-MX",)),
    "english-en-GB-preview": VoiceFilter(languages=("English",), accents=("en-GB",), has_preview=True),
    "style-natural": VoiceFilter(styles=("Natural",)),
    "styles-any": VoiceFilter(styles=("Calm", "Soothing"), genders=("female", "male")),
    "no-preview": VoiceFilter(has_preview=False),
    "accents-any": VoiceFilter(accents=("pt-PT", "fr-CA")),
    "languages-raw-and-unknown": VoiceFilter(languages=("en", "Unknown")),
    "text-search": VoiceFilter(query="natural"),
    "text-search-two-terms": VoiceFilter(query="  Lifelike  EXCITED "),
    "text-search-id": VoiceFilter(query="d92994ae0de34b2e"),
    "tags": VoiceFilter(tags=("brand",)),
    "approved": VoiceFilter(approved_only=True),
    "approved-search-notes": VoiceFilter(approved_only=True, query="kids"),
    "age-groups": VoiceFilter(age_groups=("senior", "adult")),
    "private": VoiceFilter(types=("private",)),
    "combined": VoiceFilter(
        languages=("English", "German"),
        genders=("male",),
        has_preview=True,
        styles=("Natural", "Professional"),
        accents=("de-AT", "en-IE"),
    ),
}


@pytest.mark.parametrize("f", FILTERS.values(), ids=FILTERS.keys())
def test_filter_matches_plain_python(raw_voices, annotations, frame, f):
    expected = _reference_ids(raw_voices, annotations, f)
    got = filter_voices(frame, f)["voice_id"].tolist()
    assert got == expected
    assert 0 < len(got) < len(frame)


def test_unspecified_age_group_matches_unannotated_voices(frame):
    got = filter_voices(frame, VoiceFilter(age_groups=("unspecified",)))
    assert len(got) == len(frame) - 2 and got["age_group"].isna().all()


def test_empty_filter_and_impossible_filter(frame):
    assert filter_voices(frame, VoiceFilter()) is frame
    assert filter_voices(frame, VoiceFilter(query="   ")) is frame
    assert filter_voices(frame, VoiceFilter(languages=("Hindi",), accents=("en-GB",))).empty


def test_facet_counts_sum_and_order(frame):
    languages = facet_counts(frame, "language")
    assert sum(languages.values()) == len(frame) and languages["English"] == 1409
    assert list(languages.values()) == sorted(languages.values(), reverse=True)
    styles = facet_counts(frame, "styles")
    assert sum(styles.values()) == frame["styles"].map(len).sum()
    accents = facet_counts(frame, "accents")
    assert sum(accents.values()) == frame["accents"].map(len).sum()
    multilingual = ((frame["language"] == "Multilingual") & frame["support_locale"]).sum()
    english = ((frame["language"] == "English") & frame["support_locale"]).sum()
    assert accents["en-GB"] == english + multilingual
    assert facet_counts(frame, "tags") == {"brand": 3, "narrator": 1, "promo": 1}


def test_facet_counts_on_a_filtered_frame_omit_zeros(frame):
    spanish = filter_voices(frame, VoiceFilter(languages=("Spanish",)))
    assert facet_counts(spanish, "language") == {"Spanish": 106}
    accents = facet_counts(spanish, "accents")
    assert set(accents) >= set(LOCALES["Spanish"]) and "en-GB" not in accents
    assert sum(facet_counts(spanish, "gender").values()) == 106


# ------------------------------------------------------------------ looks


def test_looks_frame_on_real_dump(raw_avatars, looks):
    df = looks_frame(looks)
    n_avatars, n_photos = 1289, len(raw_avatars["talking_photos"])
    assert len(df) == n_avatars + n_photos and df["id"].is_unique  # two private ids listed twice
    assert facet_counts(df, "gender") == {"unknown": 2 + n_photos, "female": 689, "male": 598}
    assert facet_counts(df, "ownership") == {"public": n_avatars - 2 + n_photos, "private": 2}
    assert facet_counts(df, "orientation") == {"portrait": n_photos, "landscape": n_avatars}
    assert facet_counts(df, "engines") == {"avatar_iii": len(df), "avatar_iv": len(df), "avatar_v": 2}
    assert df["ready"].all() and df["width"].dtype == "Int64"
    abigail = df[df["id"].str.startswith("Abigail_")]
    assert len(abigail) and (abigail["group_id"] == "Abigail").all()


def test_look_filters(looks):
    df = looks_frame(looks)
    twins = filter_looks(df, LookFilter(engines=("avatar_v",)))
    assert twins["avatar_type"].tolist() == ["digital_twin", "digital_twin"]
    assert filter_looks(df, LookFilter(ownership=("private",)))["id"].tolist() == twins["id"].tolist()
    females = filter_looks(df, LookFilter(genders=("Female",), orientations=("landscape",)))
    assert len(females) == 689
    expected = [lk.id for lk in looks if "abigail" in lk.name.lower() and lk.avatar_type == "studio_avatar"]
    found = filter_looks(df, LookFilter(query="ABIGAIL", avatar_types=("studio_avatar",)))["id"].tolist()
    assert found == list(dict.fromkeys(expected)) and found
    assert filter_looks(df, LookFilter()) is df


def test_look_ownership_and_readiness():
    pending = AvatarLook(id="a" * 32, name="Me", avatar_type="photo_avatar", status="processing")
    public = AvatarLook(id="Abigail_1", name="Abigail", gender=None)
    df = looks_frame([pending, public])
    assert df["ownership"].tolist() == ["private", "public"]
    assert df["ready"].tolist() == [False, True] and df["gender"].tolist() == ["unknown", "unknown"]
    assert filter_looks(df, LookFilter(ready_only=True))["id"].tolist() == ["Abigail_1"]


# ------------------------------------------------------------------ index, loading, synthetic data


def test_catalog_index_lookups(voices, looks):
    index = CatalogIndex(voices, looks)
    ivy = next(v for v in voices if v.language == "English" and v.support_locale)
    assert index.voice(ivy.voice_id) is ivy and index.voice("nope") is None and index.voice(None) is None
    assert index.locales(ivy.voice_id) == LOCALES["English"]
    chad = voices[0]
    assert index.locales(chad.voice_id) == [] and index.locales("nope") == []
    turkey = next(v for v in voices if v.language == "Turkey")
    assert index.locales(turkey.voice_id) == (["tr-TR"] if turkey.support_locale else [])
    assert tables.is_starfish_id(chad.voice_id)
    assert not tables.is_starfish_id(next(v.voice_id for v in voices if len(v.voice_id) == 20))
    derya = next(v for v in voices if v.name == "Derya - Lifelike - Excited 🤩")
    assert index.voice_label(derya.voice_id).startswith("Derya (Lifelike · Excited) · ")
    assert index.voice_label("nope") == "Unknown voice (nope)"
    look = index.look("Aditya_public_1")
    assert look is not None and look.name == "Aditya in Blue blazer"
    assert index.look_label("Aditya_public_1") == "Aditya in Blue blazer · studio avatar · landscape"
    assert index.look("missing") is None


class _FakeClient:
    def __init__(self, voices, looks, fetched_at=None):
        self._voices, self._looks, self._fetched_at, self.calls = voices, looks, fetched_at, []

    def list_voices(self, *, type=None, refresh=False, progress=None):
        """Like HeyGen: public voices by default, the account's clones with type=private."""
        self.calls.append(("voices", type, refresh))
        chosen = [v for v in self._voices if v.type == (type or "public")]
        progress = progress or (lambda done, has_more: None)
        for done in range(100, len(chosen), 100):
            progress(done, True)
        progress(len(chosen), False)
        return chosen

    def list_avatar_looks(self, *, refresh=False, progress=None):
        self.calls.append(("looks", refresh))
        progress = progress or (lambda done, has_more: None)
        progress(50, True)
        progress(len(self._looks), False)
        return list(self._looks)


def test_load_catalog_combines_progress_and_reports_cache(voices, looks):
    old = datetime.now(UTC) - timedelta(hours=3)
    client = _FakeClient(voices, looks[:120])
    client.catalog_fetched_at = lambda kind: old
    seen = []
    loaded = catalog_store.load_catalog(client, refresh=True, progress=lambda f, msg: seen.append((f, msg)))
    assert client.calls == [("voices", "private", True), ("voices", None, True), ("looks", True)]
    fractions = [f for f, _ in seen]
    assert fractions[0] == 0.0 and fractions[-1] == 1.0 and fractions == sorted(fractions)
    assert any(f == 0.5 for f in fractions) and all(isinstance(m, str) and m for _, m in seen)
    assert len(loaded.voices) == 2326 and len(loaded.looks) == 120
    assert [v.type for v in loaded.voices[:2]] == ["private", "private"]
    assert loaded.index.voice(voices[0].voice_id) is not None
    assert loaded.fetched_at == old and loaded.from_cache


def test_load_catalog_without_freshness_support(voices, looks):
    loaded = catalog_store.load_catalog(_FakeClient(voices[:3], looks[:3]))
    assert loaded.fetched_at is None and not loaded.from_cache and len(loaded.looks) == 3


def test_synthetic_voices_have_unique_ids_of_the_same_kind(voices):
    big = synthetic_voices(3, voices)
    assert len(big) == 3 * len(voices) == len({v.voice_id for v in big})
    assert sum(map(tables.is_starfish_id, (v.voice_id for v in big))) == 3 * 2111
    df = voices_frame(big)
    assert facet_counts(df, "language")["English"] == 3 * 1409


def test_catalog_store_loads_once_and_reloads_on_refresh_or_age(voices, looks, monkeypatch):
    client = _FakeClient(voices[:5], looks[:5])
    store = catalog_store.CatalogStore(client, ttl_s=60)
    assert store.current is None and not store.is_fresh()
    first = store.get()
    assert store.get() is first and len(client.calls) == 3  # private, public, looks: one walk
    with pytest.raises(PermissionDenied, match=r"^Only an admin can refresh the catalog\.$"):
        store.get(refresh=True, actor=person("Pat", "producer"))
    assert store.get(refresh=True, actor=ADMIN) is not first and client.calls[-1] == ("looks", True)
    now = catalog_store.time.monotonic()
    monkeypatch.setattr(catalog_store.time, "monotonic", lambda: now + 61)
    assert not store.is_fresh()
    store.get()
    assert len(client.calls) == 9


def test_catalog_store_shares_one_load_between_threads(voices, looks):
    import threading

    client = _FakeClient(voices[:5], looks[:5])
    store = catalog_store.CatalogStore(client, ttl_s=60)
    results = []
    threads = [threading.Thread(target=lambda: results.append(store.get())) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(client.calls) == 3 and len({id(r) for r in results}) == 1
