"""Benchmark-only Django app: three identical models written three ways (see ../trail.py).

Installed only by the benchmark, next to `cyberqms.settings`; never by the product.
"""
