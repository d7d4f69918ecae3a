"""gridmap.web."""
