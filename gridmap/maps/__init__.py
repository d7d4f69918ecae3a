"""gridmap.maps."""
