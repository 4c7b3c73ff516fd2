"""Fault injection for the sandbox's API routes (never for ``/_sandbox/*``).

Spec syntax: clauses separated by ``;``. A clause is an optional scope ``METHOD /path/template:`` and a
comma-separated list of ``kind=value``. ``value`` is a probability in [0, 1] (``500=0.05``) or a count
``Nx`` meaning "the next N matching calls" (``429=2x``). A scoped clause replaces the unscoped clause for
that route. Examples::

    429=0.05,500=0.03,502=0.02,503=0.02,slow=0.05,drop=0.02,badjson=0.03
    GET /v3/videos/statuses:500=0.2;POST /v3/videos:429=0.1

Kinds: ``401``, ``402``, ``429`` (with ``Retry-After: 1``), ``500``/``503`` (v3 JSON envelope),
``502``/``504`` (HTML gateway page, no envelope), ``slow`` (delay ``slow_s`` then answer normally),
``drop`` (connection closed without a response), ``badjson`` (status 200, body truncated mid-JSON; the
request itself is processed), and for ``POST /v1/chat/completions`` only: ``badcontent`` (the reply's
message is prose, not JSON) and ``badshape`` (JSON in the wrong shape); other routes answer those normally.
Draws use ``random.Random(seed)``, so a seed reproduces a run.

:class:`Knobs` holds the job-level faults set through ``POST /_sandbox/faults``.
"""

from __future__ import annotations

import random
import threading
from dataclasses import dataclass, field

KINDS = ("401", "402", "429", "500", "502", "503", "504", "slow", "drop", "badjson", "badcontent", "badshape")
#: Kinds the route answers itself (the middleware only marks the request).
ROUTE_FAULTS = ("badcontent", "badshape")


@dataclass
class Rule:
    """One ``kind=value`` entry: a probability, or a remaining count of forced faults."""

    kind: str
    probability: float = 0.0
    remaining: int = 0


class FaultPlan:
    """Parsed fault spec; :meth:`pick` decides the fault (or ``None``) for one request. Thread-safe."""

    def __init__(self, spec: str | None = None, seed: int | None = None) -> None:
        self.spec = spec or ""
        self.rng = random.Random(seed)
        self.lock = threading.Lock()
        self.default: list[Rule] = []
        self.scoped: dict[tuple[str, str], list[Rule]] = {}
        for clause in filter(None, (c.strip() for c in self.spec.split(";"))):
            scope, rules = _parse_clause(clause)
            if scope is None:
                self.default = rules
            else:
                self.scoped[scope] = rules

    def pick(self, method: str, template: str | None) -> str | None:
        """The fault kind to apply to ``METHOD template`` now, or ``None``."""
        rules = self.scoped.get((method.upper(), template or ""), self.default)
        if not rules:
            return None
        with self.lock:
            for rule in rules:
                if rule.remaining > 0:
                    rule.remaining -= 1
                    return rule.kind
            draw = self.rng.random()
            total = 0.0
            for rule in rules:
                total += rule.probability
                if draw < total:
                    return rule.kind
        return None


def _parse_clause(clause: str) -> tuple[tuple[str, str] | None, list[Rule]]:
    scope = None
    head, sep, tail = clause.rpartition(":")
    if sep and " " in head.strip():
        method, _, path = head.strip().partition(" ")
        scope, clause = (method.upper(), path.strip()), tail
    rules = []
    for item in filter(None, (part.strip() for part in clause.split(","))):
        kind, eq, value = item.partition("=")
        kind, value = kind.strip().lower(), value.strip().lower()
        if not eq or kind not in KINDS:
            raise ValueError(f"unknown fault {item!r}; kinds: {', '.join(KINDS)}")
        if value.endswith("x"):
            rules.append(Rule(kind, remaining=int(value[:-1])))
        else:
            probability = float(value)
            if not 0.0 <= probability <= 1.0:
                raise ValueError(f"probability of {kind} must be within 0..1")
            rules.append(Rule(kind, probability=probability))
    return scope, rules


@dataclass
class Knobs:
    """Job-level faults (``POST /_sandbox/faults`` JSON keys of the same names).

    - ``fail_next``: the next N jobs to complete fail with ``failure_code``/``failure_message``.
    - ``stuck_next``: the next N created jobs stay ``processing`` forever (until deleted).
    - ``expire_urls``: presigned file URLs are issued already expired (download → 403).
    - ``webhook_bad_signature``: outgoing webhook signatures are wrong.
    - ``webhook_duplicate``: every webhook is delivered twice.
    - ``truncate_files_next``: the next N output-file downloads announce the full ``Content-Length`` but
      close the connection after half of the body.
    - ``stall_files_next``: the next N output-file downloads send half of the body, then nothing for
      ``stall_s`` seconds, then the rest.
    - ``files_answer_next``/``files_answer_status``: the next N output-file downloads answer that HTTP
      status (e.g. 503) instead of the file.
    - ``avatar_fail_next``: the next N photo avatars fail training with ``avatar_failure_code``/``…_message``.
    - ``clone_fail_next``: the next N voice clones fail with ``clone_failure_message``.
    """

    fail_next: int = 0
    failure_code: str = "RENDER_FAILED"
    failure_message: str = "The video could not be rendered."
    stuck_next: int = 0
    expire_urls: bool = False
    webhook_bad_signature: bool = False
    webhook_duplicate: bool = False
    truncate_files_next: int = 0
    stall_files_next: int = 0
    stall_s: float = 30.0
    files_answer_next: int = 0
    files_answer_status: int = 503
    avatar_fail_next: int = 0
    avatar_failure_code: str = "face_not_detected"
    avatar_failure_message: str = "No face was detected in the photo; use a clear, front-facing portrait."
    clone_fail_next: int = 0
    clone_failure_message: str = "The recording has too much background noise to clone the voice."
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    def take(self, name: str) -> bool:
        """Consume one unit of the ``fail_next``/``stuck_next`` counter; True if one was left."""
        with self.lock:
            left = getattr(self, name)
            if left > 0:
                setattr(self, name, left - 1)
                return True
            return False

    def as_dict(self) -> dict:
        """Public view for ``GET``/``POST /_sandbox/faults``."""
        return {k: getattr(self, k) for k in ("fail_next", "failure_code", "failure_message", "stuck_next",
                                              "expire_urls", "webhook_bad_signature", "webhook_duplicate",
                                              "truncate_files_next", "stall_files_next", "stall_s",
                                              "files_answer_next", "files_answer_status",
                                              "avatar_fail_next", "avatar_failure_code", "avatar_failure_message",
                                              "clone_fail_next", "clone_failure_message")}
