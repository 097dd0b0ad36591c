"""Serve the Ringostat emulator (JSON-RPC at /a/v2): `run_emulator --provider ringostat`, on loopback."""

from integrations.base import ProviderName

from .run_emulator import ProviderCommand


class Command(ProviderCommand):
    help = "Serve the Ringostat emulator's JSON-RPC endpoint, loopback only."
    provider, default_port = ProviderName.RINGOSTAT, 8091
