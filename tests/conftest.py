"""Shared pytest fixtures: one fixture module per part of the product (sandbox, database, OpenID provider, S3)."""

pytest_plugins = [
    "tests.fixtures.sandbox",
    "tests.fixtures.db",
    "tests.fixtures.oidc",
    "tests.fixtures.s3",
]
