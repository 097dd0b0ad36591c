"""RingPlan-side entities in Callrota: roster sync, live status and call events."""
