"""Reel Studio for team deployments: the app plus ``GET /readyz`` on the same port.

Run with ``streamlit run asgi.py`` (same options as ``streamlit run app.py``). ``/readyz``
answers 503 while this replica cannot open or migrate its database (ui/readiness.py);
``/_stcore/health`` only says that the process lives. On SIGTERM or SIGINT the runtime is stopped
(an embedded worker releases its lease) before the process exits.
"""

import streamlit as st

from ui.readiness import lifespan, routes

app = st.App("app.py", routes=routes(), lifespan=lifespan)
