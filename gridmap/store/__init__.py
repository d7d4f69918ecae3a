"""gridmap.store."""
