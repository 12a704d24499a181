"""The pytest plugin and what runs around it: options, fixtures, records, the terminal, replay and resend.

The plugin module itself (``ipadlogin_conformance.runner.plugin``) is what
pytest loads (a ``pytest11`` entry point, and the checkout's conftest.py);
nothing is imported here, so that loading this package costs nothing.
"""
