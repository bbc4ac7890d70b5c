"""Benchmarks of ``partnercenter_async`` against the code users write today, and the floor.

Run ``python -m benchmarks`` (``--quick`` for a smoke run); see ``benchmarks/README.md``.
"""
