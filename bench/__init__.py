"""The side-by-side benchmark (``python -m bench.run``); not part of the installed package."""
