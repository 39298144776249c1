"""Benchmark scripts; run them from the repository root as ``python -m benchmarks.NAME``.

Run that way, ``import delvol`` finds this checkout rather than an installed copy.
"""
