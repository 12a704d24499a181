"""JSON that strict parsers read: no NaN or Infinity, which Python's json writes unless told not to.

A non-finite number (a setting that slipped through, a division by zero)
becomes null, so summary.json and the cassette stay valid JSON for any reader.
"""

from __future__ import annotations

import json
import math
from typing import Any


def dumps(value: Any, **kwargs: Any) -> str:
    return json.dumps(_finite(value), allow_nan=False, **kwargs)


def _finite(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {key: _finite(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_finite(item) for item in value]
    return value
