"""Shared fixtures. Provider fixtures live in their own modules, registered here."""
