"""Create the PostgreSQL database named in ``DATABASE_URL`` when it does not exist yet (``make team``).

Usage: ``python tools/create_database.py`` (reads ``DATABASE_URL``); SQLite URLs are left alone.
Exits 2 with one sentence when the server cannot be reached.
"""

from __future__ import annotations

import os
import sys

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url


def main() -> int:
    """Connect to the server's ``postgres`` database and ``CREATE DATABASE`` the target if missing."""
    url = make_url(os.environ.get("DATABASE_URL", ""))
    if not url.drivername.startswith("postgresql") or not url.database:
        return 0
    admin = create_engine(url.set(database="postgres", query={}), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            if conn.scalar(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": url.database}) is None:
                conn.execute(text(f'CREATE DATABASE "{url.database}"'))
                print(f"created database {url.database}")
    except Exception as exc:  # the driver's message may contain the password
        print(f"PostgreSQL at {url.render_as_string(hide_password=True)} cannot be used ({type(exc).__name__}); "
              "start it (make services) or set DATABASE_URL.", file=sys.stderr)
        return 2
    finally:
        admin.dispose()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
