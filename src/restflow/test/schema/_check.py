"""Checking one request and response against the documented operation."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, cast

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.http import HttpResponseBase
from jsonschema import ValidationError
from rest_framework.schemas.generators import is_api_view

from restflow.test.schema._document import (
    Operation,
    SchemaDocument,
    document_for,
    escape,
)
from restflow.test.schema._report import (
    Mismatch,
    SchemaMismatchError,
    UndocumentedOperationError,
    shorten,
)
from restflow.test.schema._validators import Direction

__all__ = ["SchemaCheck", "assert_matches_schema", "check_exchange"]

_SKIP_ADVICE = (
    "Send this request with validate_schema=False to skip the check, or "
    "document the endpoint."
)


@dataclass(frozen=True)
class SchemaCheck:
    """What a schema check looked at. The client stores it on each checked
    response as ``response.schema_check``."""

    #: The documented operation, as ``"products_retrieve (GET /api/products/{id}/)"``;
    #: None when there was none to check against (see :attr:`skipped`).
    operation: str | None
    #: Why part or all of the exchange went unchecked, or None if nothing was
    #: left out: a streaming or non-JSON body (status and content type are
    #: still checked), or a response no operation describes.
    skipped: str | None = None
    #: Whether the request body was checked as well.
    request_checked: bool = False


def assert_matches_schema(response: HttpResponseBase) -> SchemaCheck:
    """Check ``response`` against the project's OpenAPI schema; raise if it differs.

    Works on any response from :class:`~restflow.test.AsyncAPIClient` (or
    Django's test clients): the operation is found from the URL pattern the
    request resolved to and its method. The status code must be documented,
    the ``Content-Type`` must be one documented for it, and a JSON body must
    match the documented schema.

    Returns:
        What was checked, with the reason for anything left out.

    Raises:
        SchemaMismatchError: Listing every mismatch found.
        UndocumentedOperationError: When no operation of the schema describes
            the request, or it reached no DRF view at all.
    """
    return check_exchange(response, explicit=True)


def check_exchange(
    response: HttpResponseBase,
    request_body: bytes | None = None,
    request_content_type: str | None = None,
    *,
    explicit: bool = False,
) -> SchemaCheck:
    """Check a response and, when given, the JSON request body that led to it."""
    request = getattr(response, "asgi_request", None) or getattr(
        response, "wsgi_request", None
    )
    if request is None:
        raise TypeError(
            f"assert_matches_schema() got a {type(response).__name__} that no "
            "test client returned: it needs the response of a request sent "
            "through AsyncAPIClient (or Django's test clients), which carries "
            "the request it answers."
        )
    method: str = request.method
    path: str = request.path
    status = response.status_code
    match = request.resolver_match
    reason = None
    if match is None:
        reason = "the URL matched no URL pattern, so no view and no operation"
    elif not is_api_view(match.func):
        reason = (
            f"{_view_name(match.func)} is not a DRF view; drf-spectacular "
            "documents DRF views only"
        )
    elif method == "OPTIONS":
        reason = "OPTIONS answers with DRF's metadata, which OpenAPI does not describe"
    if reason is not None:
        if explicit:
            raise UndocumentedOperationError(
                method, path, status, f"cannot be checked: {reason}.", ""
            )
        return SchemaCheck(None, skipped=reason)
    assert match is not None

    document = document_for(getattr(request, "urlconf", None) or settings.ROOT_URLCONF)
    operation = document.operation_for(match, "GET" if method == "HEAD" else method)
    if operation is None:
        template = document.template_for(match)
        raise UndocumentedOperationError(
            method,
            path,
            status,
            f"the OpenAPI schema has no operation {method} {template} (URL "
            f"pattern {match.route!r}, view {_view_name(match.func)}).",
            _SKIP_ADVICE,
        )

    checker = _Checker(document, operation)
    skipped = checker.check_response(response, body_expected=method != "HEAD")
    request_checked = False
    if request_body and _is_json(request_content_type) and _check_requests():
        checker.check_request(request_body, _media_type(request_content_type))
        request_checked = True
    if checker.mismatches:
        raise SchemaMismatchError(
            method, path, status, str(operation), checker.mismatches
        )
    return SchemaCheck(str(operation), skipped=skipped, request_checked=request_checked)


class _Checker:
    """Collects the mismatches of one exchange with its operation."""

    def __init__(self, document: SchemaDocument, operation: Operation) -> None:
        self.document = document
        self.operation = operation
        self.mismatches: list[Mismatch] = []

    def check_response(
        self, response: HttpResponseBase, body_expected: bool
    ) -> str | None:
        """Check status, content type and body; return why the body went unchecked."""
        responses = self.operation.spec.get("responses", {})
        status_key = _documented_status(responses, response.status_code)
        responses_at = f"{self.operation.pointer}/responses"
        if status_key is None:
            self.mismatches.append(
                Mismatch(
                    "status",
                    None,
                    "one of the documented statuses "
                    + (", ".join(responses) or "(none)"),
                    str(response.status_code),
                    f"#{responses_at}",
                )
            )
            return None
        # Where the Response Object is: a hook may have moved it to components.
        documented, where = self.document.resolve(
            responses[status_key], f"{responses_at}/{escape(status_key)}"
        )
        content: Mapping[str, Any] = documented.get("content") or {}
        content_type = response.get("Content-Type")
        media_type = _media_type(content_type)
        body = None if response.streaming else response.content  # type: ignore[attr-defined]
        if not content:
            if body:
                self.mismatches.append(
                    Mismatch(
                        "response body",
                        "",
                        f"no body (status {status_key} is documented without content)",
                        f"{len(body)} bytes of {content_type}",
                        f"#{where}",
                    )
                )
            return None
        entry_type = _documented_media_type(content, media_type)
        if entry_type is None:
            self.mismatches.append(
                Mismatch(
                    "content type",
                    None,
                    f"one of {', '.join(content)}",
                    content_type or "(no Content-Type)",
                    f"#{where}/content",
                )
            )
            return None
        if not body_expected:
            return "a HEAD response has no body"
        if body is None:
            return (
                "the body of a streaming response is not read, so only its "
                "status and content type are checked"
            )
        if not _is_json(entry_type):
            return f"{entry_type} bodies are checked by content type only"
        self._check_json(body, content, entry_type, where, "response")
        return None

    def check_request(self, body: bytes, media_type: str) -> None:
        """Check a JSON request body against the operation's ``requestBody``."""
        documented, where = self.document.resolve(
            self.operation.spec.get("requestBody"),
            f"{self.operation.pointer}/requestBody",
        )
        content: Mapping[str, Any] = (documented or {}).get("content") or {}
        entry_type = _documented_media_type(content, media_type)
        if entry_type is None:
            self.mismatches.append(
                Mismatch(
                    "request body",
                    None,
                    f"a body of type {', '.join(content)}"
                    if content
                    else "no request body (none is documented)",
                    f"{len(body)} bytes of {media_type}",
                    f"#{where}",
                )
            )
            return
        self._check_json(body, content, entry_type, where, "request")

    def _check_json(
        self,
        body: bytes,
        content: Mapping[str, Any],
        entry_type: str,
        where: str,
        direction: Direction,
    ) -> None:
        """Check a JSON body against the schema of ``content[entry_type]``.

        A media type documented without a schema accepts any body
        (drf-spectacular writes ``"schema": null`` for ``OpenApiTypes.NONE``).
        """
        if content[entry_type].get("schema") is None:
            return
        schema_pointer = f"{where}/content/{escape(entry_type)}/schema"
        part = f"{direction} body"
        try:
            instance = json.loads(body)
        except ValueError as invalid:
            self.mismatches.append(
                Mismatch(
                    part,
                    "",
                    "a JSON document",
                    f"{shorten(body[:80].decode(errors='replace'))} ({invalid})",
                    f"#{schema_pointer}",
                )
            )
            return
        validator = self.document.validator(schema_pointer, direction)
        errors = sorted(validator.iter_errors(instance), key=_error_order)
        for error in errors:
            self.mismatches.append(self._mismatch(part, error))

    def _mismatch(self, part: str, error: ValidationError) -> Mismatch:
        path = list(error.absolute_path)
        got = shorten(error.instance)
        if error.validator == "required":
            missing = _missing_property(error)
            path.append(missing)
            got = "nothing: the property is missing"
        return Mismatch(
            part,
            "".join(f"/{escape(str(step))}" for step in path),
            _expected(error),
            got,
            _rule_location(self.document, error),
        )


def _expected(error: ValidationError) -> str:
    keyword, value = error.validator, error.validator_value
    value = cast(Any, value)
    schema = error.schema if isinstance(error.schema, Mapping) else {}
    if keyword == "type":
        kinds = value if isinstance(value, list) else [value]
        if schema.get("nullable") is True:
            kinds = [*kinds, "null"]
        return "a value of type " + " or ".join(str(kind) for kind in kinds)
    if keyword == "required":
        return f"the required property {_missing_property(error)!r}"
    if keyword == "enum":
        return "one of " + ", ".join(shorten(choice) for choice in value)
    if keyword == "discriminator":
        return "one of the discriminator values " + ", ".join(map(shorten, value))
    if keyword == "format":
        return f"a string in the format {value!r}"
    if keyword in ("oneOf", "anyOf"):
        count = "exactly one" if keyword == "oneOf" else "at least one"
        return f"a value matching {count} of the {len(value)} {keyword} alternatives"
    if keyword == "additionalProperties" and value is False:
        allowed = ", ".join(schema.get("properties", {})) or "none"
        return f"no properties besides the documented ones ({allowed})"
    if keyword == "const":
        return f"exactly {shorten(value)}"
    return f"{keyword} {shorten(value)} ({error.message})"


def _missing_property(error: ValidationError) -> str:
    # jsonschema's message is "'name' is a required property".
    return str(error.message.split("'")[1]) if "'" in error.message else "?"


def _rule_location(document: SchemaDocument, error: ValidationError) -> str:
    """JSON pointer into the document to the keyword an error comes from.

    The schema object an error names is part of the document itself (its
    ``$ref`` targets included), so its location is looked up by identity:
    the pointer names the component where the rule is written, not the
    schema that refers to it.
    """
    if error.validator == "discriminator":
        # Raised by the oneOf/anyOf that reads the discriminator.
        return f"{document.pointer_to(error.schema)}/discriminator"
    return f"{document.pointer_to(error.schema)}/{escape(str(error.validator))}"


def _error_order(error: ValidationError) -> tuple[str, ...]:
    return tuple(str(step) for step in error.absolute_path)


def _check_requests() -> bool:
    """Whether ``RESTFLOW_SCHEMA["VALIDATE_REQUESTS"]`` asks for request bodies."""
    options = getattr(settings, "RESTFLOW_SCHEMA", {})
    unknown = (
        set(options) - {"VALIDATE_REQUESTS"} if isinstance(options, Mapping) else None
    )
    if unknown is None or unknown:
        raise ImproperlyConfigured(
            "RESTFLOW_SCHEMA must be a dict with the one key VALIDATE_REQUESTS "
            f"(True or False), but it has {sorted(unknown) if unknown else options}."
        )
    value = options.get("VALIDATE_REQUESTS", False)
    if not isinstance(value, bool):
        raise ImproperlyConfigured(
            "RESTFLOW_SCHEMA['VALIDATE_REQUESTS'] must be True or False, "
            f"not {value!r}."
        )
    return value


def _documented_status(responses: Mapping[str, Any], status: int) -> str | None:
    for key in (str(status), f"{str(status)[0]}XX", f"{str(status)[0]}xx", "default"):
        if key in responses:
            return key
    return None


def _documented_media_type(content: Mapping[str, Any], media_type: str) -> str | None:
    if media_type in content:
        return media_type
    family = media_type.split("/")[0] + "/*"
    for candidate in (family, "*/*"):
        if candidate in content:
            return candidate
    return None


def _media_type(content_type: str | None) -> str:
    return (content_type or "").split(";")[0].strip().lower()


def _is_json(content_type: str | None) -> bool:
    media_type = _media_type(content_type)
    return media_type == "application/json" or media_type.endswith("+json")


def _view_name(view: Any) -> str:
    target = getattr(view, "cls", None) or getattr(view, "view_class", None) or view
    module = getattr(target, "__module__", "?")
    return f"{module}.{getattr(target, '__qualname__', type(target).__name__)}"
