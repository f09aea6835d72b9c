"""What the keyword arguments of a request mean.

restflow replaces two tools whose extra keyword arguments mean different
things. DRF's factory and client build WSGI environs, so there
``HTTP_AUTHORIZATION="Token abc"`` is a header and ``REMOTE_ADDR=...`` the
client's address. Django's ``AsyncClient`` builds ASGI scopes and treats
every extra keyword as the name of a header: ``ACCEPT="text/html"`` sends
``Accept: text/html``. restflow accepts both vocabularies with one rule:

========================================  =====================================
keyword                                   meaning
========================================  =====================================
``HTTP_<NAME>``                           the header ``<Name>`` (DRF)
``CONTENT_TYPE``, ``CONTENT_LENGTH``      those headers (DRF)
``QUERY_STRING``                          the query string, if not empty (DRF)
``REMOTE_ADDR``, ``REMOTE_PORT``          the client's address (DRF)
``SERVER_NAME``, ``SERVER_PORT``          the server's address (DRF)
``SCRIPT_NAME``                           the ASGI ``root_path`` (DRF)
``SERVER_PROTOCOL``                       the HTTP version (DRF)
``wsgi.url_scheme``                       ``http`` or ``https`` (DRF)
any other name, e.g. ``ACCEPT_LANGUAGE``  the header named after it (Django)
========================================  =====================================

Every keyword is first given its environ name (``ACCEPT`` becomes
``HTTP_ACCEPT``), so that two spellings of one header cannot both be sent
and the usual precedence - defaults, then the call's keywords, then
``headers=``, then ``credentials()`` - decides between them.

``PATH_INFO``, ``REQUEST_METHOD`` and the other ``wsgi.*`` keys would only
repeat the path and method arguments, or describe nothing an ASGI request
carries; they are refused with the fix.
"""

from __future__ import annotations

__all__ = ["ENVIRON_FIELDS", "environ_name", "header_name", "header_value"]

#: Environ keys that set a part of the request other than a header.
ENVIRON_FIELDS = frozenset(
    {
        "QUERY_STRING",
        "REMOTE_ADDR",
        "REMOTE_PORT",
        "SERVER_NAME",
        "SERVER_PORT",
        "SCRIPT_NAME",
        "SERVER_PROTOCOL",
        "wsgi.url_scheme",
    }
)

#: Environ keys that are refused, with what to write instead.
_REFUSED = {
    "PATH_INFO": "the path is the first argument of the call",
    "REQUEST_METHOD": "the method is the verb you call (or generic()'s first argument)",
    "wsgi.input": "pass the body as data=",
}


def environ_name(key: str, call: str) -> str:
    """The environ name of a request keyword: ``ACCEPT`` -> ``HTTP_ACCEPT``.

    ``call`` names the public call (``"AsyncAPIClient.get()"``) for the
    error raised on refused keys.
    """
    if key in ENVIRON_FIELDS or key.startswith("HTTP_"):
        return key
    if key in _REFUSED or key.startswith("wsgi."):
        reason = _REFUSED.get(key, "an ASGI request has no such part")
        raise ValueError(
            f"{call} got the keyword argument {key!r}, which is not accepted: {reason}."
        )
    name = key.upper().replace("-", "_")
    if name in ("CONTENT_TYPE", "CONTENT_LENGTH"):
        return name
    return "HTTP_" + name


def header_name(environ_key: str, call: str) -> bytes:
    """The ASGI header name for an environ key: ``HTTP_X_API_KEY`` -> ``x-api-key``."""
    name = environ_key[5:] if environ_key.startswith("HTTP_") else environ_key
    try:
        return name.replace("_", "-").lower().encode("ascii")
    except UnicodeEncodeError:
        raise ValueError(
            f"{call} got the header name {name!r}, which is not ASCII: header "
            "names are ASCII letters, digits and hyphens."
        ) from None


def header_value(key: str, value: object, call: str) -> bytes:
    """Encode one header value as an ASGI server delivers it.

    ``str`` values are sent as latin-1, the encoding HTTP and WSGI use for
    header text; ``bytes`` are sent as they are; integers
    (``CONTENT_LENGTH=5``) as their digits. Anything else would reach the
    view as its ``repr()``, so it is refused, naming the keyword and the fix.
    """
    if isinstance(value, bytes):
        return value
    if isinstance(value, str):
        try:
            return value.encode("latin-1")
        except UnicodeEncodeError:
            raise ValueError(
                f"{call} got {key}={value!r}, which cannot be sent as a header: "
                "header values are latin-1 text. Pass bytes you encoded yourself "
                f"({key}={value!r}.encode()), or percent-encode the text."
            ) from None
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value).encode("ascii")
    if value is None:
        fix = f"leave {key} out to send no such header"
    else:
        fix = f"pass the value as str or bytes, not {type(value).__name__}"
    raise TypeError(f"{call} got {key}={value!r}: {fix}.")
