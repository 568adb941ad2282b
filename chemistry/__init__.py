"""neurosoup.chemistry."""
