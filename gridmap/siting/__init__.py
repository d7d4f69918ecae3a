"""gridmap.siting."""
