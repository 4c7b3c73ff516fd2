"""Who is acting: the :class:`~core.access.actor.Actor` every write records, built by pages, worker
and webhook receiver. Permission rules live here, and every core write calls them.

May import: the foundations (``core.config``, ``core.db``, ``core.models``). Nothing else in core.
"""
