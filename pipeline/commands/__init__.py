"""Sub-commands of the ``imagepipe`` command line, one module each.

Each module exposes ``register(subparsers)``, which adds its parser and sets
``func`` to the function that runs it (returning an exit code).
"""
