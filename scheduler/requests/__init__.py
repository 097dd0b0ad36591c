"""Agents ask, supervisors decide: time off, offered and claimed shift occurrences, open shifts.

An approved request is only schedule data (a TimeOff row or an OccurrenceChange), so the planner, the
reconciler, the board and the feeds follow it with no special case.
"""
