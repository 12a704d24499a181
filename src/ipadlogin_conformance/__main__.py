"""``python -m ipadlogin_conformance``: the console tool, for where its script is not on PATH."""

import sys

from .cli import main

sys.exit(main())
