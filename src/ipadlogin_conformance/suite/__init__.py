"""The conformance tests QA runs: thin, they send through ``target`` and hand the answer to ``judge``."""
