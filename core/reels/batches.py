"""Batches as the team prepares them: templates, a spreadsheet's rows rendered and checked, before spending.

:func:`preview_batch` renders a template for every row and lists each row's problems (a missing
variable, a script over 5,000 characters once rendered, an unknown voice or look id, a look that
does not support the reel's engine, an empty row) with its estimated length (seconds) and cost
(USD). :func:`create_batch` stores the rows (nothing is spent); launching is
:func:`core.jobs.batches.launch_batch`. Functions take a SQLAlchemy session, flush, and leave
committing to the caller.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any

import pandas as pd
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from core.access.actor import Actor
from core.access.permissions import Action, require
from core.models import Batch, BatchRow, Reel
from core.reels.drafts import _event, _scene_rows, get_reel
from core.reels.estimate import estimate_reel
from core.reels.templates import is_reserved, render_reel, template_variables
from core.reels.validation import (
    TITLE_MAX_CHARS,
    ReelError,
    ReelStateError,
    SceneInput,
    sorted_scenes,
    validate_reel,
)


class BatchError(ReelError, ValueError):
    """A batch cannot be made or changed as asked; the message says why in one sentence."""


@dataclass(frozen=True)
class RowPreview:
    """One spreadsheet row rendered: ``number`` 1-based; ``problems`` empty when the row can be launched."""

    number: int
    values: dict[str, str]
    title: str
    scripts: list[str]
    problems: list[str]
    duration_s: float
    cost_usd: float
    excluded: bool = False

    @property
    def ok(self) -> bool:
        """True when the row would become a reel (no problems, not excluded)."""
        return not self.problems and not self.excluded


@dataclass(frozen=True)
class BatchPreview:
    """Every row of a batch before launch, with totals over the rows that would be launched.

    ``missing_columns``: variables no column provides (every row has the problem);
    ``unused_columns``: columns neither a variable nor a reserved column uses (a warning).
    """

    variables: list[str]
    rows: list[RowPreview]
    missing_columns: list[str] = field(default_factory=list)
    unused_columns: list[str] = field(default_factory=list)

    @property
    def launchable(self) -> list[RowPreview]:
        """The rows that would become reels."""
        return [r for r in self.rows if r.ok]

    @property
    def total_duration_s(self) -> float:
        return sum(r.duration_s for r in self.launchable)

    @property
    def total_cost_usd(self) -> float:
        return sum(r.cost_usd for r in self.launchable)


def template_scripts(template: Any) -> list[str]:
    """The template's scene scripts in position order."""
    return [s.script or "" for s in sorted_scenes(template.scenes)]


def rendered_reel(template: Any, values: Mapping[str, Any]) -> tuple[SimpleNamespace, list[str]]:
    """``template`` rendered with one row: a reel-shaped object (settings + :class:`SceneInput` scenes) and
    the rendering problems (validation is separate)."""
    rendered = render_reel(template.title or "", template_scripts(template), values)
    scenes = []
    for scene, out in zip(sorted_scenes(template.scenes), rendered.scenes, strict=True):
        base = SceneInput.from_scene(scene)
        scenes.append(dataclasses.replace(base, script=out.script, voice_id=out.voice_id or base.voice_id,
                                          avatar_id=out.avatar_id or base.avatar_id))
    reel = SimpleNamespace(title=rendered.title.strip()[:TITLE_MAX_CHARS], mode=template.mode,
                           aspect_ratio=template.aspect_ratio, resolution=template.resolution,
                           captions=template.captions, engine=template.engine, scenes=scenes)
    return reel, list(rendered.problems)


def _row_preview(template: Any, number: int, values: dict[str, str], index: Any, excluded: bool) -> RowPreview:
    if not any(str(v).strip() for v in values.values()):
        return RowPreview(number, values, "", [], ["The row is empty."], 0.0, 0.0, excluded)
    reel, problems = rendered_reel(template, values)
    if not problems:  # a rendering problem makes validation messages noise
        problems += [p.message for p in validate_reel(reel, index)]
    try:
        estimate = estimate_reel(reel, index)
        duration, cost = estimate.duration_s, estimate.cost_usd
    except ValueError:
        duration, cost = 0.0, 0.0
    return RowPreview(number, values, reel.title, [s.script for s in reel.scenes], problems, duration, cost,
                      excluded)


def preview_batch(template: Any, rows: pd.DataFrame, index: Any, *, excluded: Iterable[int] = ()) -> BatchPreview:
    """Render and check ``template`` for every row of ``rows`` (a frame of text cells, rows numbered from 1).

    Args:
        template: a template :class:`~core.models.Reel` (or the same shape).
        index: the :class:`core.catalog.index.CatalogIndex` to check voice and look ids against.
        excluded: row numbers left out of the launch (they are still rendered and checked).

    Raises:
        TemplateError: the template itself has a syntax error (no row can be rendered).
    """
    variables = template_variables(template.title or "", template_scripts(template))
    columns = [str(c) for c in rows.columns]
    missing = [v for v in variables if v not in columns]
    unused = [c for c in columns if c not in variables and not is_reserved(c)]
    skip = set(excluded)
    previews = []
    for number, record in enumerate(rows.to_dict(orient="records"), start=1):
        values = {str(k): ("" if v is None else str(v)) for k, v in record.items()}
        previews.append(_row_preview(template, number, values, index, number in skip))
    return BatchPreview(variables, previews, missing, unused)


def get_template(session: Session, template_id: int) -> Reel:
    """The template reel ``template_id``.

    Raises:
        ReelNotFoundError: no such reel. BatchError: the reel is not a template.
    """
    reel = get_reel(session, template_id)
    if not reel.is_template:
        raise BatchError(f"Reel {template_id} is not a template; save it as a template first.")
    return reel


def save_as_template(session: Session, reel_id: int, *, actor: Actor) -> Reel:
    """Copy any reel as a new template owned by ``actor``; flushes.

    The copy keeps title, settings and scenes (the title is rendered into every batch reel, so it gets no
    suffix; lists mark templates instead); its title and scripts may then use ``{{ variables }}``.

    Raises:
        ReelNotFoundError: no such reel. PermissionDenied: ``actor`` may not create reels.
    """
    require(actor, Action.CREATE_REEL)
    source = get_reel(session, reel_id)
    reel = Reel(owner=actor.name, owner_id=actor.user_id, status="draft", attempt=0, version=1,
                title=source.title or "", mode=source.mode,
                aspect_ratio=source.aspect_ratio, resolution=source.resolution, captions=source.captions,
                engine=source.engine, is_template=True)
    reel.scenes = _scene_rows([SceneInput.from_scene(s) for s in sorted_scenes(source.scenes)])
    session.add(reel)
    session.flush()
    _event(session, reel, actor, f"saved as a template from reel {source.id}", from_status="")
    session.flush()
    return reel


def templates(session: Session, *, owner: str | None = None) -> list[Reel]:
    """Every template, newest first (``owner``: only theirs)."""
    stmt = select(Reel).where(Reel.is_template.is_(True)).order_by(Reel.updated_at.desc(), Reel.id.desc())
    if owner:
        stmt = stmt.where(Reel.owner == owner)
    return list(session.scalars(stmt))


def _rows_sha256(columns: list[str], records: list[dict[str, str]], excluded: set[int]) -> str:
    payload = json.dumps([columns, records, sorted(excluded)], ensure_ascii=False, sort_keys=True)
    return hashlib.sha256(payload.encode()).hexdigest()


def create_batch(session: Session, template_id: int, rows: pd.DataFrame, *, actor: Actor, file_name: str = "",
                 title: str = "", excluded: Sequence[int] = ()) -> Batch:
    """Store a batch: the template it renders and every row (column → text), numbered from 1. Nothing is spent.

    The same rows (and left-out rows) for the same template and owner are one batch: submitting them
    again returns the stored batch instead of a second one, so launching it again makes no reel twice.

    Raises:
        PermissionDenied: ``actor`` may not create reels.
        ReelNotFoundError, BatchError: no such template, or an empty sheet.
        ReelStateError: the template was launched (it is no longer a draft).
        PermissionDenied: ``actor`` may not create reels.
    """
    require(actor, Action.CREATE_REEL)
    template = get_template(session, template_id)
    if template.status != "draft":
        raise ReelStateError("This template is no longer a draft; save a new template.")
    if rows.empty:
        raise BatchError("The spreadsheet has no rows.")
    skip = set(excluded)
    columns = [str(c) for c in rows.columns]
    records = [{str(k): ("" if v is None else str(v)) for k, v in record.items()}
               for record in rows.to_dict(orient="records")]
    digest = _rows_sha256(columns, records, skip)
    existing = session.scalar(select(Batch).where(Batch.owner == actor.name, Batch.template_id == template.id,
                                                  Batch.rows_sha256 == digest))
    if existing is not None:
        return existing
    batch = Batch(title=(title or f"{template.title or 'Batch'} · {file_name}".strip(" ·"))[:TITLE_MAX_CHARS],
                  owner=actor.name, owner_id=actor.user_id, template_id=template.id, file_name=file_name[:255], columns=columns,
                  rows_sha256=digest)
    try:
        with session.begin_nested():
            session.add(batch)
            session.flush()
    except IntegrityError:  # the same rows submitted at the same moment by another tab
        return session.scalars(select(Batch).where(Batch.owner == actor.name, Batch.template_id == template.id,
                                                   Batch.rows_sha256 == digest)).one()
    session.add_all(BatchRow(batch_id=batch.id, number=n, excluded=n in skip, values=values)
                    for n, values in enumerate(records, start=1))
    session.flush()
    return batch


def batch_rows_frame(session: Session, batch_id: int) -> pd.DataFrame:
    """The stored rows of a batch as a frame of text cells (columns in the spreadsheet's order)."""
    batch = session.get(Batch, batch_id)
    if batch is None:
        raise BatchError(f"Batch {batch_id} does not exist (it may have been deleted).")
    rows = session.scalars(select(BatchRow).where(BatchRow.batch_id == batch_id).order_by(BatchRow.number)).all()
    return pd.DataFrame([r.values for r in rows], columns=batch.columns)

