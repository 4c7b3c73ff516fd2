"""Shared ``st.column_config`` for catalog tables (voices, avatar looks), usable by any page.

Each ``*_COLUMNS`` list is the display order; the matching ``*_column_config()`` labels and
formats those columns of :func:`core.catalog.voices_frame` / :func:`core.catalog.looks_frame`.
Select the columns before handing a frame to ``st.dataframe`` (``df[VOICE_TABLE_COLUMNS]``):
the helper columns (``_search``, ``_*_key``) are large and never shown.
"""

from __future__ import annotations

import streamlit as st

#: Voice columns shown by the Voices page, in order.
VOICE_TABLE_COLUMNS: list[str] = [
    "name", "preview_url", "language", "gender", "accent_labels", "styles", "approved", "age_group", "tags",
    "support_pause", "type", "voice_id",
]

#: Avatar look columns for tables (the Avatars page shows a gallery; other pages may list looks).
LOOK_TABLE_COLUMNS: list[str] = [
    "preview_image_url", "name", "group_id", "avatar_type", "gender", "orientation", "engines", "ownership",
    "ready", "width", "height", "id",
]


def voice_column_config() -> dict[str, st.column_config.Column]:
    """Labels, widths and types for :data:`VOICE_TABLE_COLUMNS` (preview playable in place)."""
    cc = st.column_config
    return {
        "name": cc.TextColumn("Voice", width="medium", pinned=True,
                              help="Name without HeyGen's emoji and style suffixes"),
        "preview_url": cc.AudioColumn("Preview", width="small", help="HeyGen's preview clip; play it in place"),
        "language": cc.TextColumn("Language", width="small"),
        "gender": cc.TextColumn("Gender", width="small"),
        "accent_labels": cc.ListColumn(
            "Accents", width=150,
            help="Locales the voice can speak with (voice_settings.locale); empty = its native accent only"),
        "styles": cc.ListColumn("Style", width="small", help="Delivery style from the voice name"),
        "has_preview": cc.CheckboxColumn("Has preview", width=105),
        "support_pause": cc.CheckboxColumn("Pauses", width=80, help="Supports <break> pauses in scripts"),
        "support_locale": cc.CheckboxColumn("Accent choice", width=120,
                                            help="Accepts a locale (accent) in voice settings"),
        "type": cc.TextColumn("Access", width="small", help="public: HeyGen library; private: your clones"),
        "approved": cc.CheckboxColumn("Approved", width=90, help="Approved for our brand (team annotation)"),
        "age_group": cc.TextColumn("Age group", width=90, help="Team annotation"),
        "tags": cc.ListColumn("Team tags", width="medium"),
        "voice_id": cc.TextColumn("voice_id", width="small", help="HeyGen voice_id, as sent in a scene"),
    }


def look_column_config() -> dict[str, st.column_config.Column]:
    """Labels, widths and types for :data:`LOOK_TABLE_COLUMNS` (preview image as a thumbnail)."""
    cc = st.column_config
    return {
        "preview_image_url": cc.ImageColumn("Preview", width="small"),
        "name": cc.TextColumn("Avatar look", width="medium", pinned=True),
        "group_id": cc.TextColumn("Avatar", width="small", help="The avatar (group) this look belongs to"),
        "avatar_type": cc.TextColumn("Type", width="small"),
        "gender": cc.TextColumn("Gender", width="small"),
        "orientation": cc.TextColumn("Orientation", width="small"),
        "engines": cc.ListColumn("Engines", width="medium", help="supported_api_engines"),
        "ownership": cc.TextColumn("Access", width="small"),
        "ready": cc.CheckboxColumn("Ready", width="small"),
        "width": cc.NumberColumn("Width", format="%d px", width="small"),
        "height": cc.NumberColumn("Height", format="%d px", width="small"),
        "id": cc.TextColumn("avatar_id", width="small"),
    }
