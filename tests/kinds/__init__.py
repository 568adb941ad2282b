"""Model kinds that live in the tests: each module here registers itself (``tests/conftest.py``).

A kind registered here, with a ``KindTest``, is run by ``tests/test_every_kind.py`` like every
built-in kind; adding one is adding a module here (``docs/extending.md``).
"""
