"""Shared pytest fixtures: one fixture module per part of the product (sandbox, database)."""

pytest_plugins = [
    "tests.fixtures.sandbox",
    "tests.fixtures.db",
]
