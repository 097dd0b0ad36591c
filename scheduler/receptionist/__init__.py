"""The receptionist's My queues pages."""
