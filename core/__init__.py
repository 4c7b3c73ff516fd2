"""Reel Studio core: everything that is not Streamlit (config, HeyGen client, sandbox, database, engine)."""
