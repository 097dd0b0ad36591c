"""Serve the RingPlan emulator (REST and Socket.IO at /ws): `run_emulator --provider ringplan`, on loopback."""

from integrations.base import ProviderName

from .run_emulator import ProviderCommand


class Command(ProviderCommand):
    help = "Serve the RingPlan emulator: REST and Socket.IO (/ws) on one port, loopback only."
    provider, default_port = ProviderName.RINGPLAN, 8092
