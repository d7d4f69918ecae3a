"""gridmap benchmarks: each ``bench_*.py`` compares gridmap with what a user would use."""
