"""Records stored as canonical lists."""

from __future__ import annotations

from dataclasses import fields
from typing import Any, cast


class Record:
    """Mixin of a dataclass stored as the list of its fields, in declaration
    order: ``to_list`` encodes it, ``cls(*items)`` decodes it."""

    __slots__ = ()

    def to_list(self) -> list[Any]:
        return [getattr(self, item.name) for item in fields(cast(Any, self))]

    def to_json(self) -> dict[str, Any]:
        """The fields by name (the JSON view of records without bytes)."""
        return {item.name: getattr(self, item.name) for item in fields(cast(Any, self))}
