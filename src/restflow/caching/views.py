"""Caching the responses of DRF views: the ``cache_response`` decorator and
``CachedResponseMixin``.

Both wrap a view's *handler* (``get``, ``list``, ``retrieve``...), not its
``dispatch``, so authentication, permissions and throttling still run on
every request before the cache is consulted: a cached response is never
served to someone the view would have refused.

A handler written with ``async def`` (adrf views and viewsets) gets a wrapper
that talks to the cache through its async API, so the event loop never waits
on a cache round trip; a sync handler gets a sync wrapper.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar, TypeVar, overload

from asgiref.sync import iscoroutinefunction, sync_to_async
from django.core.cache.backends.base import DEFAULT_TIMEOUT
from django.http import HttpResponse, HttpResponseBase
from django.template.response import SimpleTemplateResponse
from rest_framework.renderers import BrowsableAPIRenderer
from rest_framework.request import Request
from rest_framework.views import APIView

from restflow.caching.config import caching_settings
from restflow.caching.keys import normalise_headers, response_key, user_identity
from restflow.caching.store import ResponseStore

__all__ = [
    "CacheOptions",
    "CachedResponseMixin",
    "cache_options_of",
    "cache_response",
    "default_group",
]

Handler = TypeVar("Handler", bound=Callable[..., Any])

_CACHEABLE_METHODS = frozenset({"GET", "HEAD"})
#: Set on a request while a cached handler computes its response, so a cached
#: ``get`` that calls a cached ``list`` does not cache the same thing twice.
_IN_PROGRESS = "_restflow_caching_in_progress"
_OPTIONS = "_restflow_cache_options"
#: With ``per_user``, the key already stands in for these request headers.
_USER_HEADERS = frozenset({"cookie", "authorization"})


@dataclass(frozen=True)
class CacheOptions:
    """How one handler is cached; ``None`` (or ``DEFAULT_TIMEOUT``) defers to
    the view's ``cache_*`` attributes, then to ``RESTFLOW_CACHING``.
    """

    timeout: Any = DEFAULT_TIMEOUT
    headers: tuple[str, ...] | None = None
    per_user: bool | None = None
    group: str | None = None

    def group_for(self, view_class: type[Any]) -> str:
        """The cache group this handler's responses belong to on ``view_class``."""
        return (
            self.group
            or getattr(view_class, "cache_group", None)
            or default_group(view_class)
        )


def default_group(view_class: type[Any]) -> str:
    """A view's cache group when none is given: the dotted path of its class.

    That is the name invalidation rules use for it, as in
    ``"shop.views.ProductViewSet"``.
    """
    return f"{view_class.__module__}.{view_class.__qualname__}"


def cache_options_of(handler: object) -> CacheOptions | None:
    """The options a handler was cached with, or ``None`` if it is not cached."""
    options = getattr(handler, _OPTIONS, None)
    return options if isinstance(options, CacheOptions) else None


@overload
def cache_response(handler: Handler, /) -> Handler: ...
@overload
def cache_response(
    *,
    timeout: float | None = DEFAULT_TIMEOUT,
    headers: Iterable[str] | None = None,
    per_user: bool | None = None,
    group: str | None = None,
) -> Callable[[Handler], Handler]: ...
def cache_response(
    handler: Handler | None = None,
    /,
    *,
    timeout: float | None = DEFAULT_TIMEOUT,
    headers: Iterable[str] | None = None,
    per_user: bool | None = None,
    group: str | None = None,
) -> Handler | Callable[[Handler], Handler]:
    """Cache the successful ``GET``/``HEAD`` responses of a view method.

    Use it bare (``@cache_response``) or with options
    (``@cache_response(per_user=True)``), on ``get`` of an ``APIView`` or on
    ``list``/``retrieve`` (``alist``/``aretrieve``) of a viewset, sync or
    ``async def`` alike.

    Other methods pass straight through, as do responses that are not
    worth or not safe to share: errors, streams, responses that set cookies
    or say ``Cache-Control: private``/``no-store``, the browsable API, and
    responses whose ``Vary`` names a header the key does not include.

    Args:
        handler: The view method, when the decorator is used bare.
        timeout: Seconds an entry lives; ``None`` keeps it until it is
            invalidated. Defaults to the view's ``cache_timeout``, then to
            ``RESTFLOW_CACHING["TIMEOUT"]``, then to the cache's own default.
        headers: Request headers, besides ``Accept``, that change the
            response and so must be part of the key, for example
            ``["Accept-Language"]``. Defaults to the view's ``cache_headers``.
        per_user: Keep one entry per authenticated user, plus one for
            anonymous users. Needed whenever the response depends on who
            asks. Defaults to the view's ``cache_per_user``, else ``False``.
        group: The name invalidation rules use for this view. Defaults to
            the view's ``cache_group``, else the dotted path of its class.

    Returns:
        The wrapped method, or (given options only) a decorator that wraps one.
    """
    options = CacheOptions(
        timeout=timeout,
        headers=None if headers is None else _header_names(headers),
        per_user=per_user,
        group=group,
    )

    def decorate(function: Handler) -> Handler:
        return _wrap(function, options)

    if handler is not None:
        return decorate(handler)
    return decorate


class CachedResponseMixin:
    """Cache the read handlers of a view or viewset without decorating each.

    Put it first among the bases. When the class is created, each handler
    named in :attr:`cached_methods` that the class has is wrapped as if by
    ``@cache_response()``. The options come from the class attributes
    :attr:`cache_timeout`, :attr:`cache_headers`, :attr:`cache_per_user` and
    :attr:`cache_group`, read on every request, so subclasses can change
    them. Handlers already decorated keep their own options.
    """

    #: Seconds an entry lives (``None``: until invalidated); the default
    #: defers to ``RESTFLOW_CACHING["TIMEOUT"]``, then to the cache.
    cache_timeout: ClassVar[float | None] = DEFAULT_TIMEOUT
    #: Request headers, besides ``Accept``, to key the cache on.
    cache_headers: ClassVar[Sequence[str]] = ()
    #: Keep separate entries per authenticated user.
    cache_per_user: ClassVar[bool] = False
    #: The name rules use for this view; ``None`` means its dotted path.
    cache_group: ClassVar[str | None] = None
    #: The handlers to cache, where the class has them.
    cached_methods: ClassVar[Sequence[str]] = (
        "get",
        "list",
        "retrieve",
        "alist",
        "aretrieve",
    )

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        for name in cls.cached_methods:
            handler = getattr(cls, name, None)
            if inspect.isfunction(handler) and cache_options_of(handler) is None:
                setattr(cls, name, _wrap(handler, CacheOptions()))


@dataclass(frozen=True)
class _Plan:
    """Everything one request needs to read and fill the cache."""

    store: ResponseStore
    group: str
    key: str
    timeout: Any
    keyed_headers: frozenset[str]


def _wrap(function: Handler, options: CacheOptions) -> Handler:
    wrapper: Callable[..., Any]
    if iscoroutinefunction(function):

        @functools.wraps(function)
        async def async_handler(
            view: APIView, request: Request, *args: Any, **kwargs: Any
        ) -> HttpResponseBase:
            plan = _plan(view, request, options)
            if plan is None:
                response: HttpResponseBase = await function(
                    view, request, *args, **kwargs
                )
                return response
            found = await plan.store.alookup(plan.group, plan.key)
            if found.response is not None:
                return found.response
            setattr(request, _IN_PROGRESS, True)
            try:
                response = await function(view, request, *args, **kwargs)
            finally:
                setattr(request, _IN_PROGRESS, False)
            response = _finalize(view, request, response, args, kwargs)
            if isinstance(response, SimpleTemplateResponse):
                await sync_to_async(response.render)()
            if _cacheable(response, plan):
                await plan.store.asave(plan.key, found.token, response, plan.timeout)
            return response

        wrapper = async_handler
    else:

        @functools.wraps(function)
        def sync_handler(
            view: APIView, request: Request, *args: Any, **kwargs: Any
        ) -> HttpResponseBase:
            plan = _plan(view, request, options)
            if plan is None:
                response: HttpResponseBase = function(view, request, *args, **kwargs)
                return response
            found = plan.store.lookup(plan.group, plan.key)
            if found.response is not None:
                return found.response
            setattr(request, _IN_PROGRESS, True)
            try:
                response = function(view, request, *args, **kwargs)
            finally:
                setattr(request, _IN_PROGRESS, False)
            response = _finalize(view, request, response, args, kwargs)
            if isinstance(response, SimpleTemplateResponse):
                response.render()
            if _cacheable(response, plan):
                plan.store.save(plan.key, found.token, response, plan.timeout)
            return response

        wrapper = sync_handler
    wrapper.__dict__[_OPTIONS] = options
    return wrapper  # type: ignore[return-value]


def _plan(view: APIView, request: Request, options: CacheOptions) -> _Plan | None:
    if request.method not in _CACHEABLE_METHODS:
        return None
    if getattr(request, _IN_PROGRESS, False):
        return None
    conf = caching_settings()
    conf.require_app()
    headers = options.headers
    if headers is None:
        headers = _header_names(getattr(view, "cache_headers", ()))
    per_user = options.per_user
    if per_user is None:
        per_user = bool(getattr(view, "cache_per_user", False))
    timeout = options.timeout
    if timeout is DEFAULT_TIMEOUT:
        timeout = getattr(view, "cache_timeout", DEFAULT_TIMEOUT)
    if timeout is DEFAULT_TIMEOUT:
        timeout = conf.timeout
    group = options.group_for(type(view))
    keyed = set(normalise_headers(headers))
    if per_user:
        keyed |= _USER_HEADERS
    return _Plan(
        store=ResponseStore.from_settings(conf),
        group=group,
        key=response_key(
            conf.key_prefix,
            group,
            request._request,
            headers=headers,
            user=user_identity(request.user) if per_user else None,
        ),
        timeout=timeout,
        keyed_headers=frozenset(keyed),
    )


def _header_names(headers: Iterable[str]) -> tuple[str, ...]:
    # A lone header name is a string, and so an iterable of characters.
    return (headers,) if isinstance(headers, str) else tuple(headers)


def _finalize(
    view: APIView,
    request: Request,
    response: HttpResponseBase,
    args: tuple[Any, ...],
    kwargs: dict[str, Any],
) -> HttpResponseBase:
    # finalize_response() attaches the negotiated renderer, without which a
    # DRF Response cannot be rendered; it accepts any HttpResponseBase,
    # whatever the stubs say, and dispatch() calling it again is harmless.
    finalized: HttpResponseBase = view.finalize_response(
        request,
        response,  # type: ignore[arg-type]
        *args,
        **kwargs,
    )
    return finalized


def _cacheable(response: HttpResponseBase, plan: _Plan) -> bool:
    if not isinstance(response, HttpResponse) or not 200 <= response.status_code < 300:
        return False
    if response.cookies:
        return False
    if isinstance(getattr(response, "accepted_renderer", None), BrowsableAPIRenderer):
        return False
    cache_control = _header_tokens(response.get("Cache-Control", ""))
    if {"no-store", "private"} & cache_control:
        return False
    return _header_tokens(response.get("Vary", "")) <= plan.keyed_headers


def _header_tokens(value: str) -> set[str]:
    return {
        part.strip().split("=", 1)[0].lower()
        for part in value.split(",")
        if part.strip()
    }
