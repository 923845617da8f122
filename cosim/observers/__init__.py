"""Observers of a run: recorders, progress, traces."""
