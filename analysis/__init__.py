"""Offline, read-only analysis of run files (filled in by the analysis step)."""
