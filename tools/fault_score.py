#!/usr/bin/env python3
"""The fault score: the conformance suite against every fault and variation of the reference server.

    python -m tools.fault_score                  print the table (exit 1 if any entry is not exactly as expected)
    python -m tools.fault_score --update-readme  also write it into README.md

The logic lives in tools.selftest, which tests/test_faults.py uses too.
"""

import sys

from tools.selftest import main

if __name__ == "__main__":
    sys.exit(main())
