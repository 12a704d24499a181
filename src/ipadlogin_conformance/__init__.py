"""A conformance suite for POST /iPadLogin, with its reference server.

Data flows spec → requirement catalog → checks → pytest runner → reports:
``openapi.yaml`` (:mod:`.spec`) and ``requirements.yaml`` (:mod:`.catalog`)
state the contract, :mod:`.checks` judge exchanges sent by :mod:`.target`,
the tests in :mod:`.suite` run under :mod:`.plugin`, and :mod:`.reports`
writes what a run found. :mod:`.server` is the reference implementation,
beside the suite and independent of it.
"""

__version__ = "0.1.0"
