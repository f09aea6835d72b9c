"""What a view can see of a request, as plain data, for comparing requests."""

from __future__ import annotations

from typing import Any

from django.core.files.uploadedfile import UploadedFile
from django.http import HttpRequest
from rest_framework.exceptions import APIException
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.request import Request


def snapshot(request: HttpRequest) -> dict[str, Any]:
    """Describe ``request`` the way a view observes it.

    Parsed through DRF's own ``Request`` so ``data`` is what a DRF view gets.
    """
    drf = Request(request, parsers=[JSONParser(), FormParser(), MultiPartParser()])
    body = request.body
    try:
        data = drf.data
    except APIException as exc:  # the same failure on both sides is a match
        data = f"<{type(exc).__name__}: {exc}>"
    if hasattr(data, "lists"):
        data = {key: [_plain(v) for v in values] for key, values in data.lists()}
    files = {
        name: [_plain(f) for f in request.FILES.getlist(name)] for name in request.FILES
    }
    return {
        "method": request.method,
        "path": request.path,
        "path_info": request.path_info,
        "full_path": request.get_full_path(),
        "GET": sorted(request.GET.lists()),
        "POST": sorted(request.POST.lists()),
        "FILES": files,
        "data": data,
        "body": body,
        "content_type": request.content_type,
        "content_params": request.content_params,
        "encoding": request.encoding,
        "headers": {
            key: value
            for key, value in request.META.items()
            if key.startswith("HTTP_") or key in ("CONTENT_TYPE", "CONTENT_LENGTH")
        },
        "host": request.get_host(),
        "scheme": request.scheme,
        "secure": request.is_secure(),
        "remote_addr": request.META.get("REMOTE_ADDR"),
        "server": (request.META.get("SERVER_NAME"), request.META.get("SERVER_PORT")),
        "csrf_exempt": getattr(request, "_dont_enforce_csrf_checks", None),
    }


def _plain(value: Any) -> Any:
    if isinstance(value, UploadedFile):
        value.seek(0)
        return (value.name, value.content_type, value.read())
    return value


def jsonable(snap: dict[str, Any]) -> dict[str, Any]:
    """``snapshot`` with bytes made JSON-safe, for views that echo it."""
    out = dict(snap)
    out["body"] = snap["body"].decode("latin-1")
    out["FILES"] = {
        k: [(n, ct, c.decode("latin-1")) for n, ct, c in v]
        for k, v in snap["FILES"].items()
    }
    if isinstance(snap["data"], dict):
        out["data"] = {
            k: [
                (v[0], v[1], v[2].decode("latin-1")) if isinstance(v, tuple) else v
                for v in vs
            ]
            if isinstance(vs, list)
            else vs
            for k, vs in snap["data"].items()
        }
    return out
