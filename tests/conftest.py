"""Shared pytest fixtures: each fixture module is owned by the part of the product it serves."""

pytest_plugins = [
    "tests.fixtures.sandbox",
    "tests.fixtures.db",
]
