"""Benchmarks, run by hand or by ``make bench`` (``python -m bench``); never by the test suite."""
