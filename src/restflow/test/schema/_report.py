"""What a failed schema check says: one line per fact, every mismatch listed."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

__all__ = ["Mismatch", "SchemaMismatchError", "UndocumentedOperationError"]

#: Longest rendering of a value in a message, before it is cut short.
MAX_VALUE_LENGTH = 120


@dataclass(frozen=True)
class Mismatch:
    """One way in which a request or response differs from the schema."""

    #: What was checked: ``"status"``, ``"content type"``, ``"response body"``
    #: or ``"request body"``.
    part: str
    #: JSON pointer (RFC 6901) into the body where the mismatch is, ``""``
    #: for the whole body; None for the status and content type.
    pointer: str | None
    #: What the schema asks for there.
    expected: str
    #: What the request or response had there, shortened.
    got: str
    #: JSON pointer into the OpenAPI document to the rule that failed, as
    #: ``#/components/schemas/Product/properties/price/type``.
    rule: str

    def describe(self) -> str:
        """The mismatch as an indented block of the failure message."""
        where = self.part
        if self.pointer is not None:
            where += f" at {self.pointer}" if self.pointer else " (as a whole)"
        return (
            f"  {where}\n"
            f"    expected: {self.expected}\n"
            f"    got:      {self.got}\n"
            f"    rule:     {self.rule}"
        )


class SchemaMismatchError(AssertionError):
    """A response (or the request body that led to it) does not match the
    project's OpenAPI schema.

    An ``AssertionError``, so test runners report a failure, not an error.
    The attributes carry what the message says.
    """

    def __init__(
        self,
        method: str,
        path: str,
        status: int,
        operation: str,
        mismatches: Sequence[Mismatch],
        *,
        advice: str = "",
    ) -> None:
        #: The request's method, as ``"GET"``.
        self.method = method
        #: The request's path, as ``"/api/products/7/"``.
        self.path = path
        #: The response's status code.
        self.status = status
        #: The documented operation the exchange was checked against.
        self.operation = operation
        #: Every mismatch found, in the order of the message.
        self.mismatches = list(mismatches)
        count = len(self.mismatches)
        lines = [
            f"{method} {path} answered {status}, which does not match the "
            f"OpenAPI schema: {count} mismatch{'es' if count != 1 else ''}.",
            f"  operation: {operation}",
            "",
            *(mismatch.describe() for mismatch in self.mismatches),
            "",
            advice
            or (
                "Fix the view or its extend_schema annotations, or pass "
                "validate_schema=False to skip this request's check."
            ),
        ]
        super().__init__("\n".join(lines))


class UndocumentedOperationError(SchemaMismatchError):
    """The request reached an endpoint that the OpenAPI schema does not describe."""

    def __init__(
        self, method: str, path: str, status: int, reason: str, advice: str
    ) -> None:
        self.reason = reason
        super().__init__(
            method,
            path,
            status,
            "(none)",
            [],
            advice=advice,
        )
        self.args = (f"{method} {path} (answered {status}): {reason}\n{advice}",)

    def __str__(self) -> str:
        return str(self.args[0])


def shorten(value: Any) -> str:
    """``value`` as JSON, cut to :data:`MAX_VALUE_LENGTH` characters.

    Every value shown comes from a parsed JSON body or from the JSON
    document itself, so it always serializes.
    """
    text = json.dumps(value, ensure_ascii=False)
    if len(text) > MAX_VALUE_LENGTH:
        text = text[: MAX_VALUE_LENGTH - 1] + "…"
    return text
