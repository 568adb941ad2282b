"""Example user rules and scenario files."""
