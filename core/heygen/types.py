"""Typed HeyGen v3 response objects.

The models accept HeyGen's real, dirty values without failing and keep them raw:
``gender`` may be ``"Male"`` or ``"unknown"``, ``language`` may be ``""`` or
``"Filipino "``, names may carry NBSP and emoji, previews may be ``None``. Cleaning
for display and filtering lives in :mod:`core.catalog`. Unknown extra fields are kept
(``extra="allow"``) so a newer HeyGen field never breaks parsing.
"""

from __future__ import annotations

from typing import Any, get_args

from pydantic import BaseModel, ConfigDict, Field, model_validator


class HeyGenModel(BaseModel):
    """Base: tolerant of extra fields, immutable, raw values preserved.

    A ``null`` in a field that has a non-null default (``"name": null``) means the default.
    """

    model_config = ConfigDict(extra="allow", frozen=True, populate_by_name=True)

    @model_validator(mode="before")
    @classmethod
    def _null_means_default(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data
        fields = cls.model_fields
        return {k: v for k, v in data.items()
                if not (v is None and k in fields and not fields[k].is_required()
                        and fields[k].annotation is not Any and type(None) not in get_args(fields[k].annotation))}


class Voice(HeyGenModel):
    """One item of ``GET /v3/voices``.

    ``language`` is HeyGen's language *name* (``English``), raw; ``gender`` raw
    (``male``/``female``/``unknown``/``Male``); ``type`` is ``public`` or ``private``.
    """

    voice_id: str
    name: str = ""
    language: str = ""
    gender: str = ""
    preview_audio_url: str | None = None
    support_pause: bool = False
    support_locale: bool = False
    type: str = "public"


class AvatarGroup(HeyGenModel):
    """One item of ``GET /v3/avatars``: a character that owns one or more looks.

    ``created_at`` is Unix seconds.
    """

    id: str
    name: str = ""
    created_at: int | None = None
    looks_count: int = 0
    gender: str | None = None
    preview_image_url: str | None = None
    preview_video_url: str | None = None
    default_voice_id: str | None = None
    consent_status: str | None = None
    status: str | None = None
    error: dict[str, Any] | None = None


class AvatarLook(HeyGenModel):
    """One item of ``GET /v3/avatars/looks``; ``id`` is the ``avatar_id`` of a video scene.

    ``avatar_type`` is ``studio_avatar``, ``digital_twin`` or ``photo_avatar``;
    ``supported_api_engines`` a subset of ``avatar_v``, ``avatar_iv``, ``avatar_iii``;
    ``image_width``/``image_height`` in pixels.
    """

    id: str
    name: str = ""
    avatar_type: str = "studio_avatar"
    group_id: str | None = None
    gender: str | None = None
    preview_image_url: str | None = None
    preview_video_url: str | None = None
    default_voice_id: str | None = None
    tags: list[str] = Field(default_factory=list)
    preferred_orientation: str | None = None
    image_width: int | None = None
    image_height: int | None = None
    supported_api_engines: list[str] = Field(default_factory=list)
    status: str | None = None
    error: dict[str, Any] | None = None


class CreatedVideo(HeyGenModel):
    """``POST /v3/videos`` response ``data``: the new ``video_id`` and its first status (``waiting``)."""

    video_id: str
    status: str | None = None
    output_format: str | None = None


class Video(HeyGenModel):
    """``GET /v3/videos/{video_id}`` (and list items of ``GET /v3/videos``).

    ``status``: ``pending|processing|completed|failed``. ``created_at``/``completed_at``
    are Unix seconds, ``duration`` seconds. URLs are presigned and expire after ~7 days.
    """

    id: str
    status: str
    title: str | None = None
    folder_id: str | None = None
    video_page_url: str | None = None
    created_at: int | None = None
    completed_at: int | None = None
    duration: float | None = None
    video_url: str | None = None
    captioned_video_url: str | None = None
    subtitle_url: str | None = None
    thumbnail_url: str | None = None
    gif_url: str | None = None
    failure_code: str | None = None
    failure_message: str | None = None
    output_language: str | None = None


class VideoStatusItem(HeyGenModel):
    """One item of ``GET /v3/videos/statuses``.

    ``status``: ``queued|processing|completed|failed|not_found`` (other values are
    kept raw). ``error`` is ``{"code", "message"}`` when failed.
    """

    video_id: str | None = None
    status: str
    batch_id: str | None = None
    item_index: int | None = None
    error: dict[str, Any] | None = None


class WordTimestamp(HeyGenModel):
    """A word of generated speech with ``start``/``end`` in seconds."""

    word: str
    start: float
    end: float


class Speech(HeyGenModel):
    """``POST /v3/voices/speech`` response: ``audio_url`` and ``duration`` in seconds."""

    audio_url: str
    duration: float
    request_id: str | None = None
    word_timestamps: list[WordTimestamp] | None = None


class Wallet(HeyGenModel):
    """API wallet of ``GET /v3/users/me``: ``remaining_balance`` in ``currency`` (``usd`` or ``credits``)."""

    currency: str = "usd"
    remaining_balance: float | None = None
    auto_reload: dict[str, Any] | None = None


class CurrentUser(HeyGenModel):
    """``GET /v3/users/me``. Exactly one of ``wallet``/``subscription``/``usage_based`` is set."""

    username: str
    email: str | None = None
    first_name: str | None = None
    last_name: str | None = None
    billing_type: str | None = None
    wallet: Wallet | None = None
    subscription: dict[str, Any] | None = None
    usage_based: dict[str, Any] | None = None

    @property
    def balance_text(self) -> str:
        """Remaining credit as display text, e.g. ``$42.50`` or ``120 credits``."""
        if self.wallet and self.wallet.remaining_balance is not None:
            if (self.wallet.currency or "usd").lower() == "usd":
                return f"${self.wallet.remaining_balance:,.2f}"
            return f"{self.wallet.remaining_balance:,.0f} {self.wallet.currency}"
        if self.usage_based and self.usage_based.get("remaining_credits") is not None:
            return f"{self.usage_based['remaining_credits']:,} credits"
        if self.subscription:
            credits = (self.subscription.get("credits") or {}).get("premium_credits") or {}
            if credits.get("remaining") is not None:
                return f"{credits['remaining']:,} credits"
        return "unknown"


class WebhookEndpoint(HeyGenModel):
    """A v3 webhook endpoint. ``secret`` (``whsec_…``) is only present on create/rotate;
    ``events`` ``None`` means all events; ``created_at`` is ISO 8601. The rotate-secret
    response carries only ``endpoint_id`` and ``secret``, so ``url`` may be ``""`` there."""

    endpoint_id: str
    url: str = ""
    events: list[str] | None = None
    status: str | None = None
    created_at: str | None = None
    secret: str | None = Field(default=None, repr=False)


class UploadedAsset(HeyGenModel):
    """``POST /v3/assets`` response ``data``: ``asset_id`` for other endpoints, its public ``url``,
    the ``mime_type`` HeyGen detected from the bytes and ``size_bytes``."""

    asset_id: str
    url: str = ""
    mime_type: str = ""
    size_bytes: int = 0


class Asset(HeyGenModel):
    """``GET /v3/assets/{asset_id}`` (and list items of ``GET /v3/assets``).

    ``type`` is ``image``, ``video``, ``audio`` … ; ``owner`` the uploader's username;
    ``uploaded_at`` Unix seconds; ``url`` may be ``None`` when HeyGen cannot make one.
    """

    id: str
    name: str = ""
    type: str = ""
    owner: str = ""
    space_id: str = ""
    uploaded_at: int | None = None
    url: str | None = None
    folder_id: str | None = None


class CreatedAvatar(HeyGenModel):
    """``POST /v3/avatars`` response ``data``: the new (or target) group and the look being trained.

    ``avatar_item.status`` starts as ``processing``; ``avatar_group.consent_status`` tells whether
    consent is still needed (``None`` = not required).
    """

    avatar_group: AvatarGroup | None = None
    avatar_item: AvatarLook | None = None


class AvatarConsent(HeyGenModel):
    """``POST /v3/avatars/{group_id}/consent`` response ``data``: the page ``url`` where the person in
    the photo approves (``None`` when a consent video was submitted) and the group's state."""

    avatar_group: AvatarGroup
    url: str | None = None


class VoiceDetail(HeyGenModel):
    """``GET /v3/voices/{voice_id}``, also the poll of a voice clone.

    ``status`` (clones only): ``processing``, ``complete`` or ``failed`` (then ``failure_message``);
    ``created_at`` Unix seconds; ``preview_audio_url`` only for completed voices.
    """

    voice_id: str
    name: str | None = None
    language: str | None = None
    gender: str | None = None
    preview_audio_url: str | None = None
    support_pause: bool = False
    support_interactive_avatar: bool = False
    created_at: int | None = None
    status: str | None = None
    failure_message: str | None = None
