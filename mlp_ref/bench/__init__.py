"""Benchmarks of the reference step against torch eager: `python -m mlp_ref.bench` (paired processes),
`python -m mlp_ref.bench.summary` (pytest-benchmark JSON), tests/benchmarks/ (make bench)."""
