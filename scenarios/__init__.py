"""Named, versioned experiments and the ``neurosoup`` CLI."""
