"""The supervisors' pages in admin: board, timeline, coverage, preview, hold."""
