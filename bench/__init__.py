"""Benchmarks: conveyor's own micro-benchmarks and `python -m bench`, the side-by-side comparison."""
