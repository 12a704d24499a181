#!/usr/bin/env python3
"""The fault score: the conformance suite against every fault and variation of the reference server.

    python scripts/fault_score.py                  print the table (exit 1 if any entry is not exactly as expected)
    python scripts/fault_score.py --update-readme  also write it into README.md

The logic lives in ipadlogin_conformance.selftest, which tests/test_faults.py uses too.
"""

import sys

from ipadlogin_conformance.selftest import main

if __name__ == "__main__":
    sys.exit(main())
