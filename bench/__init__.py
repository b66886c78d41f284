"""Benchmarks run by `nox -s bench`; each writes JSON into bench/results/."""
