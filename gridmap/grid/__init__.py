"""gridmap.grid."""
