"""gridmap.coverage."""
