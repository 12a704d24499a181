"""A conformance suite for POST /iPadLogin, with its reference server.

Data flows spec → requirement catalog → checks → pytest runner → reports, one
layer package each: :mod:`.contract` (openapi.yaml, requirements.yaml) states
the contract, :mod:`.core` holds the plain data every layer passes around,
:mod:`.checks` judge exchanges that :mod:`.client` sent, :mod:`.results` adds
them up, the tests in :mod:`.suite` run under :mod:`.runner` (the pytest
plugin), :mod:`.reports` writes what a run found, and :mod:`.compare` diffs two
implementations. :mod:`.server` is the reference implementation, beside the
layers and independent of them. docs/architecture.md draws the map.

Each layer's ``__init__`` names its public API (``__all__``); this one imports
none of them, so that pytest loading the plugin in a project that does not run
the suite costs next to nothing.
"""

__version__ = "0.1.0"
__all__ = ["__version__"]
