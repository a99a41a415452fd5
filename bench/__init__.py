"""Benchmarks: conveyor's micro-benchmarks, and `python -m bench`: the side-by-side comparison."""
