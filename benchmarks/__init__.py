"""gridmap benchmarks: each ``bench_*.py`` compares gridmap with the library a user would otherwise use."""
