"""Make the provider match the plan: the reconciler, its one write path, leases and overrides."""
