"""gridmap.ingest."""
