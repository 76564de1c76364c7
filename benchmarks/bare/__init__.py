"""A bare Django project for benchmarks/web.py: one model, one view reading one row.

The yardstick cyberqms's pages and API are measured against, served the same way (granian,
WSGI) in the same run. Never installed or imported by the product.
"""
