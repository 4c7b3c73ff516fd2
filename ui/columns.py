"""Shared ``st.column_config`` for the voices table, usable by any page.

:data:`VOICE_TABLE_COLUMNS` is the display order; :func:`voice_column_config` labels and
formats those columns of :func:`core.catalog.tables.voices_frame`.
Select the columns before handing a frame to ``st.dataframe`` (``df[VOICE_TABLE_COLUMNS]``):
the internal columns (``_search``, ``_*_key``) are large and never shown.
"""

from __future__ import annotations

import streamlit as st

#: Voice columns shown by the Voices page, in order.
VOICE_TABLE_COLUMNS: list[str] = [
    "name", "preview_url", "language", "gender", "accent_labels", "styles", "approved", "age_group", "tags",
    "support_pause", "type", "voice_id",
]


def voice_column_config() -> dict[str, st.column_config.Column]:
    """Labels, widths and types for :data:`VOICE_TABLE_COLUMNS` (preview playable in place)."""
    cc = st.column_config
    return {
        "name": cc.TextColumn("Voice", width=150, pinned=True,
                              help="Name without HeyGen's emoji and style suffixes"),
        "preview_url": cc.AudioColumn("Preview", width="small",
                                      help="HeyGen's preview clip: double-click the note to play it"),
        "language": cc.TextColumn("Language", width="small"),
        "gender": cc.TextColumn("Gender", width="small"),
        "accent_labels": cc.ListColumn(
            "Accents", width="medium",
            help="Locales the voice can speak with (voice_settings.locale), the one you filter for first; "
                 "“Native accent only”: HeyGen takes no locale for this voice"),
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
