"""Shared fixtures. Provider fixtures live in their own modules, registered here."""

pytest_plugins = ["tests.fixtures_ringcentral"]
