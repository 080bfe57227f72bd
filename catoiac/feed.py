"""How Cato's audit feed writes values in ``fieldsMap`` (``change_Before_<f>``/``change_After_<f>``).

Shared by the emulator, which writes records, and drift, which matches live values against them.
"""

from __future__ import annotations

import json
from typing import Any


def audit_value(value: Any) -> str:
    """A value as the feed prints it."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return ""
    if isinstance(value, dict | list):
        return json.dumps(value, sort_keys=True)
    return str(value)
