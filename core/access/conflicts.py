"""Nothing is silently overwritten: the error a save made from a stale version raises.

Reels and voice annotations carry a ``version`` that every save bumps. An editor remembers the
version it showed and passes it as ``expected_version``; when the stored version moved on (another
tab, or a colleague), the save is refused with :class:`EditConflict`, which says who changed it and
when, and the editor keeps the text that was not saved.
"""

from __future__ import annotations

from datetime import UTC, datetime, tzinfo


class EditConflict(Exception):  # noqa: N818 - the product's name for it
    """A save was refused because someone changed the item since the editor loaded it.

    Attributes:
        changed_by: display name of who made the newer change ("someone" when unknown).
        changed_at: when (aware UTC), or ``None`` when unknown.
        same_person: the newer change was made by the person saving now (in another tab).
        stored_version: the version now stored.

    ``str()`` is one sentence with the time in UTC; :meth:`message` gives it in a time zone.
    """

    def __init__(self, *, changed_by: str, changed_at: datetime | None, same_person: bool, stored_version: int) -> None:
        self.changed_by = changed_by or "someone"
        self.changed_at = changed_at
        self.same_person = same_person
        self.stored_version = stored_version
        super().__init__(self.message(UTC))

    def message(self, tz: tzinfo | None = None) -> str:
        """"Changed by Ben in another tab at 14:02 — reload to see it; your text is kept below." in ``tz``."""
        where = " in another tab" if self.same_person else ""
        when = ""
        if self.changed_at is not None:
            local = self.changed_at.astimezone(tz or UTC)
            when = f" at {local:%H:%M}" + (" UTC" if (tz or UTC) is UTC else "")
        return f"Changed by {self.changed_by}{where}{when} — reload to see it; your text is kept below."
