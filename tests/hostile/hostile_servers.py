"""Hostile HTTP servers (filled in with the client cases)."""
