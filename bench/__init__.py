"""Benchmarks of planner against the straightforward ways, and the synthetic-city generators.

Run the scripts as ``python bench/<script>.py`` (``python bench/run_all.py`` runs them all; see
bench/README.md); they share one harness, `bench._harness`. The generators
(`bench.synth_osm`, `bench.synth_review`) are imported by the tests too, from the repository
root: ``from bench.synth_osm import write_synthetic_city``.
"""
