"""Shared test support: the recorded fixtures, a replay server, and request comparison."""
