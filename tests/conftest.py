"""Shared fixtures, kept in their own modules and registered here: providers, and the personas (tests/support/)."""

pytest_plugins = ["tests.fixtures_ringcentral", "tests.support.personas"]
