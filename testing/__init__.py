"""Test scaffolding: generated Fashion-MNIST files, messy photo folders, photo renderings.

Tests, benchmarks and developers use it; the product (components, data,
pipeline, serving) never imports it (``tests/test_layout.py`` checks).
"""
