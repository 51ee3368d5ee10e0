"""DataFrame metadata that pandas can carry cheaply.

pandas deep-copies ``DataFrame.attrs`` on nearly every operation. A panel's documentation and
provenance are a few hundred nested entries, which made a boolean filter 2-3x slower. The
metadata is never mutated after a table is built, so these containers share themselves instead
of being copied.
"""

from __future__ import annotations

from typing import Any


class SharedDict(dict):
    """A dict that deep-copies to itself (treat as read-only)."""

    def __deepcopy__(self, memo: dict) -> SharedDict:
        return self


class SharedList(list):
    """A list that deep-copies to itself (treat as read-only)."""

    def __deepcopy__(self, memo: dict) -> SharedList:
        return self


def share(attrs: dict[str, Any]) -> dict[str, Any]:
    """Wrap each dict/list value of ``attrs`` so copies of the DataFrame share it."""
    out = {}
    for key, value in attrs.items():
        if isinstance(value, dict) and not isinstance(value, SharedDict):
            value = SharedDict(value)
        elif isinstance(value, list) and not isinstance(value, SharedList):
            value = SharedList(value)
        out[key] = value
    return out
