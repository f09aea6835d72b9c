"""Tests of restflow.caching: cached DRF responses, invalidated on commit.

Every test runs with ``restflow.caching`` added to ``INSTALLED_APPS`` by
``override_settings`` (the main test settings do not install it), against
the views in ``tests/caching_app``. The behaviour tests run twice: on
Django's local-memory cache and on a real Redis server through Django's
``RedisCache``, with a key prefix unique to this run.

To see whether a response came from the cache, the tests change data in a
way that sends no signal (``QuerySet.update()``): a cached response still
shows the old data, a fresh one the new. Views that are not about products
number their responses instead (see ``tests/caching_app/views.py``).
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import os
import unittest
import uuid
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any, ClassVar

import pytest
from asgiref.sync import sync_to_async
from django.apps import apps
from django.conf import settings
from django.contrib.auth.models import Group, User
from django.core.cache import caches
from django.core.checks import CheckMessage, Tags, run_checks
from django.core.exceptions import ImproperlyConfigured
from django.db import models, transaction
from django.db.models.signals import m2m_changed, post_delete, post_save
from django.http import HttpResponse
from django.test import Client, SimpleTestCase
from django.test.utils import override_settings

from restflow.caching import (
    ainvalidate_model,
    ainvalidate_views,
    cache_response,
    invalidate_model,
    invalidate_views,
)
from restflow.caching.checks import routed_cache_groups
from restflow.caching.config import caching_settings
from restflow.caching.invalidation import bind, bound_rules
from restflow.caching.keys import group_key, response_key
from restflow.caching.rules import InvalidationRules
from restflow.caching.store import ResponseStore
from restflow.caching.views import cache_options_of
from restflow.test import (
    AsyncAPIClient,
    AsyncAPIRequestFactory,
    AsyncAPITestCase,
    AsyncAPITransactionTestCase,
)
from tests.caching_app import views
from tests.caching_app.backends import GuardedLocMemCache
from tests.testapp.models import Product

REDIS_URL = os.environ.get("RESTFLOW_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
RUN_PREFIX = f"restflow-test-{uuid.uuid4().hex[:12]}"

RULES = {
    "testapp.Product": [
        "tests.caching_app.views.ProductViewSet",
        "tests.caching_app.views.AsyncProductViewSet",
        "tests.caching_app.views.AsyncProductNames",
        "tests.caching_app.views.ActiveProducts",
        "product-summary",
    ],
    "auth.User": ["tests.caching_app.views.UserGroups"],
}

LOCMEM: dict[str, Any] = {
    "default": {
        "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
        "LOCATION": RUN_PREFIX,
    }
}
REDIS: dict[str, Any] = {
    "default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": REDIS_URL,
        "KEY_PREFIX": RUN_PREFIX,
    }
}
GUARDED: dict[str, Any] = {
    "default": {
        "BACKEND": "tests.caching_app.backends.GuardedLocMemCache",
        "LOCATION": f"{RUN_PREFIX}-guarded",
    }
}


def _redis_unavailable() -> str | None:
    try:
        import redis
    except ImportError:
        return "the 'redis' package is not installed (pip install redis)"
    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1).ping()
    except redis.RedisError as exc:
        return f"no Redis server answers at {REDIS_URL} ({exc})"
    return None


REDIS_MISSING = _redis_unavailable()
#: Set RESTFLOW_REQUIRE_REDIS=1 to make a missing Redis fail the run instead.
SKIP_REDIS = REDIS_MISSING is not None and not os.environ.get("RESTFLOW_REQUIRE_REDIS")
skip_without_redis = unittest.skipIf(
    SKIP_REDIS, f"Redis tests skipped: {REDIS_MISSING}"
)


def apps_without_caching() -> list[str]:
    return [app for app in settings.INSTALLED_APPS if app != "restflow.caching"]


def caching_overrides(backend: dict[str, Any], **extra: Any) -> override_settings:
    """Install the caching app with the test rules, URLs and cache backend."""
    return override_settings(
        INSTALLED_APPS=[*apps_without_caching(), "restflow.caching"],
        ROOT_URLCONF="tests.caching_app.urls",
        CACHES=backend,
        RESTFLOW_CACHING={"RULES": RULES, "TIMEOUT": 300, **extra},
        ALLOWED_HOSTS=["*"],
    )


def clear_cache() -> None:
    """Empty the test cache, touching only this run's keys on Redis."""
    cache = caches["default"]
    client_for = getattr(getattr(cache, "_cache", None), "get_client", None)
    if client_for is None:
        cache.clear()
        return
    client = client_for(write=True)
    keys = list(client.scan_iter(match=f"{RUN_PREFIX}:*"))
    if keys:
        client.delete(*keys)


# The behaviour classes are mixins, combined below with a backend and a
# database test case; type checkers see them as the test case they end up in.
if TYPE_CHECKING:
    _TestCase = AsyncAPITestCase
else:
    _TestCase = object


class CachingSetup(_TestCase):
    """Enter the caching settings for the class and empty the cache per test."""

    cache_backend: ClassVar[dict[str, Any]] = LOCMEM

    @classmethod
    def setUpClass(cls) -> None:
        overrides = caching_overrides(cls.cache_backend)
        overrides.enable()
        cls.addClassCleanup(overrides.disable)
        cls.addClassCleanup(clear_cache)
        super().setUpClass()

    def setUp(self) -> None:
        super().setUp()
        clear_cache()

    async def names(self, url: str = "/api/products/") -> list[str]:
        response = await self.client.get(url)
        self.assertEqual(response.status_code, 200, response.content)
        body = response.json()
        if body and isinstance(body[0], dict):
            return [item["name"] for item in body]
        return list(body)

    async def computed(self, url: str, data: Any = None, **extra: Any) -> int:
        response = await self.client.get(url, data, **extra)
        return int(response["X-Computed"])


@sync_to_async
def rename_all_quietly(name: str) -> None:
    """Change every product without sending a signal, behind the cache's back."""
    Product.objects.update(name=name)


class Rollback(Exception):
    """Raised to leave an ``atomic()`` block by rolling it back."""


# ---------------------------------------------------------------------------
# The guide: what each way of running a test does to on_commit invalidation.
# ---------------------------------------------------------------------------


class GuideRolledBackTests(CachingSetup):
    """Under ``AsyncAPITestCase`` nothing commits, so nothing is invalidated."""

    async def test_write_in_test_transaction_does_not_invalidate(self) -> None:
        first = await self.client.get("/api/products/")
        await Product.objects.acreate(name="Widget", price=3)

        second = await self.client.get("/api/products/")

        self.assertEqual(await Product.objects.acount(), 1)
        self.assertEqual(first.json(), [])
        self.assertEqual(second.json(), first.json())

    async def test_capture_on_commit_callbacks_execute_invalidates(self) -> None:
        first = await self.client.get("/api/products/")
        with self.captureOnCommitCallbacks(execute=True) as callbacks:
            await Product.objects.acreate(name="Widget", price=3)

        second = await self.client.get("/api/products/")

        self.assertEqual(len(callbacks), 1)
        self.assertNotEqual(first.json(), second.json())
        self.assertEqual([p["name"] for p in second.json()], ["Widget"])

    async def test_captured_callbacks_not_executed_leave_cache(self) -> None:
        await self.client.get("/api/products/")
        with self.captureOnCommitCallbacks() as callbacks:
            await Product.objects.acreate(name="Widget", price=3)

        self.assertEqual(len(callbacks), 1)
        self.assertEqual(await self.names(), [])


class GuideCommittedTests(CachingSetup):
    """Under ``AsyncAPITransactionTestCase`` writes commit and invalidate."""

    async def test_create_invalidates_cached_list(self) -> None:
        first = await self.client.get("/api/products/")
        await Product.objects.acreate(name="Widget", price=3)

        second = await self.client.get("/api/products/")

        self.assertNotEqual(first.json(), second.json())
        self.assertEqual([p["name"] for p in second.json()], ["Widget"])


class LocmemGuideRolledBack(GuideRolledBackTests, AsyncAPITestCase):
    cache_backend = LOCMEM


@skip_without_redis
class RedisGuideRolledBack(GuideRolledBackTests, AsyncAPITestCase):
    cache_backend = REDIS


class LocmemGuideCommitted(GuideCommittedTests, AsyncAPITransactionTestCase):
    cache_backend = LOCMEM


@skip_without_redis
class RedisGuideCommitted(GuideCommittedTests, AsyncAPITransactionTestCase):
    cache_backend = REDIS


@pytest.fixture(params=["locmem", "redis"])
def caching_backend(request: pytest.FixtureRequest) -> Iterator[str]:
    if request.param == "redis" and SKIP_REDIS:
        pytest.skip(f"Redis tests skipped: {REDIS_MISSING}")
    with caching_overrides(REDIS if request.param == "redis" else LOCMEM):
        clear_cache()
        yield request.param
        clear_cache()


@pytest.mark.asyncio
@pytest.mark.django_db(transaction=True)
async def test_pytest_transactional_db_invalidates(caching_backend: str) -> None:
    client = AsyncAPIClient()
    first = await client.get("/api/products/")
    await Product.objects.acreate(name="Widget", price=3)

    second = await client.get("/api/products/")

    assert first.json() == []
    assert [p["name"] for p in second.json()] == ["Widget"]


# ---------------------------------------------------------------------------
# Invalidation on commit, for every kind of write.
# ---------------------------------------------------------------------------


class InvalidationTests(CachingSetup):
    """Committed writes invalidate exactly the views the rules name."""

    async def test_rolled_back_atomic_leaves_cache_intact(self) -> None:
        await Product.objects.acreate(name="Widget")
        self.assertEqual(await self.names(), ["Widget"])
        await rename_all_quietly("Renamed")

        @sync_to_async
        def create_and_roll_back() -> None:
            with contextlib.suppress(Rollback), transaction.atomic():
                Product.objects.create(name="Gadget")
                raise Rollback

        await create_and_roll_back()

        self.assertEqual(await self.names(), ["Widget"])

    async def test_rolled_back_savepoint_inside_committed_transaction(self) -> None:
        await Product.objects.acreate(name="Widget")
        self.assertEqual(await self.names(), ["Widget"])
        await rename_all_quietly("Renamed")

        @sync_to_async
        def write_in_savepoint_then_roll_it_back() -> None:
            with (
                transaction.atomic(),
                contextlib.suppress(Rollback),
                transaction.atomic(),
            ):
                Product.objects.create(name="Gadget")
                raise Rollback

        await write_in_savepoint_then_roll_it_back()

        self.assertEqual(await self.names(), ["Widget"])

    async def test_committed_atomic_invalidates_declared_views_only(self) -> None:
        await Product.objects.acreate(name="Widget")
        declared = [
            "/api/products/",
            "/api/async-products/",
            "/api/async-product-names/",
            "/api/active-products/",
        ]
        for url in declared:
            self.assertEqual(await self.names(url), ["Widget"], url)
        summary = await self.client.get("/api/product-summary/")
        self.assertEqual(summary.json(), {"names": ["Widget"]})
        count = await self.client.get("/api/product-count/")
        self.assertEqual(count.json(), {"count": 1})

        @sync_to_async
        def create_in_transaction() -> None:
            with transaction.atomic():
                Product.objects.create(name="Gadget")
                # Not committed yet: the cached answer must still stand.
                self.assertEqual(names_from_sync_code(self), ["Widget"])

        await create_in_transaction()

        for url in declared:
            self.assertEqual(await self.names(url), ["Widget", "Gadget"], url)
        summary = await self.client.get("/api/product-summary/")
        self.assertEqual(summary.json(), {"names": ["Widget", "Gadget"]})
        count = await self.client.get("/api/product-count/")
        self.assertEqual(count.json(), {"count": 1}, "an undeclared view was busted")

    async def test_save_invalidates(self) -> None:
        product = await Product.objects.acreate(name="Widget")
        await self.names()
        product.name = "Gadget"
        await product.asave()

        self.assertEqual(await self.names(), ["Gadget"])

    async def test_instance_delete_invalidates(self) -> None:
        product = await Product.objects.acreate(name="Widget")
        await self.names()
        await product.adelete()

        self.assertEqual(await self.names(), [])

    async def test_queryset_delete_sends_post_delete_and_invalidates(self) -> None:
        await Product.objects.acreate(name="Widget")
        await self.names()
        await Product.objects.all().adelete()

        self.assertEqual(await self.names(), [])

    async def test_queryset_update_alone_does_not_invalidate(self) -> None:
        await Product.objects.acreate(name="Widget")
        await self.names()
        await Product.objects.aupdate(name="Gadget")

        self.assertEqual(await self.names(), ["Widget"])

    async def test_invalidate_model_after_update_invalidates_on_commit(self) -> None:
        await Product.objects.acreate(name="Widget")
        await self.names()

        @sync_to_async
        def bulk_update() -> None:
            with transaction.atomic():
                Product.objects.update(name="Gadget")
                invalidate_model(Product)
                self.assertEqual(names_from_sync_code(self), ["Widget"])

        await bulk_update()

        self.assertEqual(await self.names(), ["Gadget"])

    async def test_invalidate_model_in_rolled_back_transaction_does_nothing(
        self,
    ) -> None:
        await Product.objects.acreate(name="Widget")
        await self.names()
        await rename_all_quietly("Renamed")

        @sync_to_async
        def bulk_update_rolled_back() -> None:
            with contextlib.suppress(Rollback), transaction.atomic():
                Product.objects.update(name="Gadget")
                invalidate_model("testapp.Product")
                raise Rollback

        await bulk_update_rolled_back()

        self.assertEqual(await self.names(), ["Widget"])

    async def test_ainvalidate_model_from_async_code(self) -> None:
        await Product.objects.acreate(name="Widget")
        await self.names()
        await Product.objects.aupdate(name="Gadget")
        await ainvalidate_model("testapp.Product")

        self.assertEqual(await self.names(), ["Gadget"])

    async def test_invalidate_views_by_class_and_by_group(self) -> None:
        await Product.objects.acreate(name="Widget")
        await self.names()
        await self.client.get("/api/product-summary/")
        await self.client.get("/api/product-count/")
        await Product.objects.aupdate(name="Gadget")

        await sync_to_async(invalidate_views)(views.ProductViewSet)
        await ainvalidate_views("product-summary")

        self.assertEqual(await self.names(), ["Gadget"])
        summary = await self.client.get("/api/product-summary/")
        self.assertEqual(summary.json(), {"names": ["Gadget"]})
        count = await self.client.get("/api/product-count/")
        self.assertEqual(count.json(), {"count": 1})

    async def test_many_to_many_changes_invalidate_from_both_sides(self) -> None:
        user = await User.objects.acreate(username="ada")
        staff = await Group.objects.acreate(name="staff")
        admins = await Group.objects.acreate(name="admins")
        self.assertEqual(
            (await self.client.get("/api/user-groups/")).json(), {"ada": []}
        )

        await user.groups.aadd(staff)
        response = await self.client.get("/api/user-groups/")
        self.assertEqual(response.json(), {"ada": ["staff"]})

        await admins.user_set.aadd(user)
        response = await self.client.get("/api/user-groups/")
        self.assertEqual(response.json(), {"ada": ["admins", "staff"]})

        await user.groups.aremove(staff)
        response = await self.client.get("/api/user-groups/")
        self.assertEqual(response.json(), {"ada": ["admins"]})

        await user.groups.aclear()
        response = await self.client.get("/api/user-groups/")
        self.assertEqual(response.json(), {"ada": []})

    async def test_group_changes_outside_the_relation_do_not_invalidate(self) -> None:
        user = await User.objects.acreate(username="ada")
        staff = await Group.objects.acreate(name="staff")
        await user.groups.aadd(staff)
        self.assertEqual(
            (await self.client.get("/api/user-groups/")).json(), {"ada": ["staff"]}
        )

        staff.name = "personnel"
        await staff.asave()

        response = await self.client.get("/api/user-groups/")
        self.assertEqual(response.json(), {"ada": ["staff"]})

    async def test_unreachable_cache_does_not_fail_the_committed_write(self) -> None:
        unreachable = {
            "default": {
                "BACKEND": "django.core.cache.backends.redis.RedisCache",
                "LOCATION": "redis://127.0.0.1:1/0",
            }
        }
        with (
            override_settings(CACHES=unreachable),
            self.assertLogs("django.db.backends.base", "ERROR") as logs,
        ):
            await Product.objects.acreate(name="Widget")

        self.assertEqual(await Product.objects.acount(), 1)
        self.assertIn("on_commit", logs.output[0])

    async def test_proxy_model_writes_invalidate_rules_on_concrete_model(self) -> None:
        proxy = await sync_to_async(define_product_proxy)()
        self.addCleanup(forget_model, proxy)
        # Changing the setting binds the rules again, now seeing the proxy.
        with override_settings(RESTFLOW_CACHING={"RULES": RULES}):
            await Product.objects.acreate(name="Widget")
            self.assertEqual(await self.names(), ["Widget"])

            await proxy.objects.acreate(name="Gadget")

            self.assertEqual(await self.names(), ["Widget", "Gadget"])


def names_from_sync_code(test: Any, url: str = "/api/products/") -> list[str]:
    """Read a product list from sync code, inside a transaction, through
    Django's sync test client (the async client cannot be awaited there)."""
    response = Client().get(url)
    test.assertEqual(response.status_code, 200)
    body = response.json()
    if body and isinstance(body[0], dict):
        return [item["name"] for item in body]
    return list(body)


def define_product_proxy() -> type[Product]:
    """A proxy of Product, created for one test and removed after it."""
    meta = type("Meta", (), {"proxy": True, "app_label": "testapp"})
    proxy: type[Product] = type(
        "CachingTestProductProxy",
        (Product,),
        {"Meta": meta, "__module__": __name__},
    )
    return proxy


def define_model_with_missing_through() -> type[models.Model]:
    """A model, created for one test, whose many-to-many relation goes
    through a model that does not exist."""
    meta = type("Meta", (), {"app_label": "testapp"})
    links = models.ManyToManyField(
        "self", through="testapp.NoSuchThrough", symmetrical=False, related_name="+"
    )
    return type(
        "CachingTestMissingThrough",
        (models.Model,),
        {"Meta": meta, "__module__": __name__, "links": links},
    )


def forget_model_with_missing_through(model: type[models.Model]) -> None:
    apps._pending_operations.pop(("testapp", "nosuchthrough"), None)
    apps.all_models["testapp"].pop(model._meta.model_name or "", None)
    apps.clear_cache()


def forget_model(model: type[models.Model]) -> None:
    apps.all_models[model._meta.app_label].pop(model._meta.model_name or "", None)
    apps.clear_cache()
    bind()


class LocmemInvalidation(InvalidationTests, AsyncAPITransactionTestCase):
    cache_backend = LOCMEM


@skip_without_redis
class RedisInvalidation(InvalidationTests, AsyncAPITransactionTestCase):
    cache_backend = REDIS


class DeferralTests(CachingSetup, AsyncAPITestCase):
    """Only a change that some rule covers leaves work for commit time."""

    async def test_changes_no_rule_covers_defer_nothing(self) -> None:
        with self.captureOnCommitCallbacks() as callbacks:
            await sync_to_async(invalidate_model)(Group)
            await ainvalidate_views()
            # No rule names auth.Group itself, only the User-Group relation.
            await Group.objects.acreate(name="staff")

        self.assertEqual(callbacks, [])

        with self.captureOnCommitCallbacks() as callbacks:
            await sync_to_async(invalidate_model)(Product)

        self.assertEqual(len(callbacks), 1)


# ---------------------------------------------------------------------------
# The response store: generation tokens on a real cache.
# ---------------------------------------------------------------------------


class StoreTests(CachingSetup):
    """Generations are shared between processes and busted in one write."""

    def store(self) -> ResponseStore:
        return ResponseStore.from_settings(caching_settings())

    async def test_abust_makes_a_group_stale(self) -> None:
        store = self.store()
        found = await store.alookup("some.View", "some-key")
        await store.asave("some-key", found.token, HttpResponse(b"body"), 300)
        cached = await store.alookup("some.View", "some-key")
        assert cached.response is not None
        self.assertEqual(cached.response.content, b"body")

        await store.abust(["some.View"])

        stale = await store.alookup("some.View", "some-key")
        self.assertIsNone(stale.response)
        self.assertNotEqual(stale.token, found.token)

    async def test_busting_no_groups_changes_nothing(self) -> None:
        store = self.store()
        found = await store.alookup("some.View", "some-key")
        await store.asave("some-key", found.token, HttpResponse(b"body"), 300)

        await sync_to_async(store.bust)([])
        await store.abust([])

        kept = await store.alookup("some.View", "some-key")
        self.assertEqual(kept.token, found.token)
        self.assertIsNotNone(kept.response)

    async def test_a_generation_started_elsewhere_is_adopted(self) -> None:
        store = self.store()
        token_key = group_key(store.prefix, "some.View")
        # As if another process started the generation between this one's
        # read of the token and its attempt to start one.
        await caches["default"].aset(token_key, "theirs", None)

        self.assertEqual(await store._astart_generation(token_key), "theirs")
        self.assertEqual(
            await sync_to_async(store._start_generation)(token_key), "theirs"
        )
        self.assertEqual(await caches["default"].aget(token_key), "theirs")


class LocmemStore(StoreTests, AsyncAPITestCase):
    cache_backend = LOCMEM


@skip_without_redis
class RedisStore(StoreTests, AsyncAPITestCase):
    cache_backend = REDIS


# ---------------------------------------------------------------------------
# What gets cached, under which key, for how long.
# ---------------------------------------------------------------------------


class ResponseCachingTests(CachingSetup):
    """Which requests share an entry, and which responses are never stored."""

    async def test_repeated_get_is_served_from_cache(self) -> None:
        first = await self.client.get("/counted/")
        second = await self.client.get("/counted/")

        self.assertEqual(first.status_code, 200)
        self.assertEqual(second.content, first.content)
        self.assertEqual(second["X-Computed"], first["X-Computed"])
        self.assertEqual(second["Content-Type"], "application/json")
        self.assertEqual(second.data, first.data)

    async def test_entries_live_in_the_configured_cache(self) -> None:
        await self.client.get("/counted/")

        cache = caches["default"]
        backend = self.cache_backend["default"]["BACKEND"]
        self.assertEqual(f"{type(cache).__module__}.{type(cache).__name__}", backend)
        token_key = group_key("restflow", "tests.caching_app.views.Counted")
        self.assertIsNotNone(await cache.aget(token_key))
        if self.cache_backend is REDIS:
            server = cache._cache.get_client()  # type: ignore[attr-defined]
            stored = [key.decode() for key in server.scan_iter(f"{RUN_PREFIX}:*")]
            self.assertEqual(len(stored), 2, stored)

    async def test_async_view_is_served_from_cache(self) -> None:
        first = await self.computed("/async-counted/")
        self.assertEqual(await self.computed("/async-counted/"), first)

    async def test_head_is_cached_apart_from_get(self) -> None:
        get = await self.computed("/counted/")
        head = int((await self.client.head("/counted/"))["X-Computed"])
        head_again = int((await self.client.head("/counted/"))["X-Computed"])

        self.assertNotEqual(head, get)
        self.assertEqual(head_again, head)

    async def test_other_methods_are_never_cached(self) -> None:
        for url in ("/counted/", "/async-counted/"):
            with self.subTest(url):
                first = await self.client.post(url)
                second = await self.client.post(url)

                self.assertNotEqual(first["X-Computed"], second["X-Computed"])

    async def test_plain_django_responses_are_cached(self) -> None:
        for url in ("/counted/?plain=1", "/async-counted/?plain=1"):
            with self.subTest(url):
                first = await self.client.get(url)
                second = await self.client.get(url)

                self.assertEqual(first["Content-Type"], "application/json")
                self.assertEqual(second["X-Computed"], first["X-Computed"])
                self.assertEqual(second.json(), first.json())

    async def test_query_parameter_order_does_not_matter(self) -> None:
        first = await self.computed("/counted/?a=1&b=2")

        self.assertEqual(await self.computed("/counted/?b=2&a=1"), first)
        self.assertNotEqual(await self.computed("/counted/?a=1&b=3"), first)
        self.assertNotEqual(await self.computed("/counted/?b=2&a=1&a=0"), first)

    async def test_repeated_parameters_keep_their_order(self) -> None:
        first = await self.computed("/counted/?a=1&a=2")

        self.assertNotEqual(await self.computed("/counted/?a=2&a=1"), first)

    async def test_accept_header_selects_the_entry(self) -> None:
        plain = await self.client.get("/counted/", HTTP_ACCEPT="application/json")
        indented = await self.client.get(
            "/counted/", HTTP_ACCEPT="application/json; indent=4"
        )
        plain_again = await self.client.get("/counted/", HTTP_ACCEPT="application/json")

        self.assertNotEqual(plain["X-Computed"], indented["X-Computed"])
        self.assertIn(b"\n    ", indented.content)
        self.assertEqual(plain_again.content, plain.content)

    async def test_declared_headers_select_the_entry(self) -> None:
        english = await self.client.get("/counted/", HTTP_ACCEPT_LANGUAGE="en")
        french = await self.client.get("/counted/", HTTP_ACCEPT_LANGUAGE="fr")
        english_again = await self.client.get("/counted/", HTTP_ACCEPT_LANGUAGE="en")

        self.assertEqual(french.json()["language"], "fr")
        self.assertNotEqual(english["X-Computed"], french["X-Computed"])
        self.assertEqual(english_again.json(), english.json())

    async def test_host_selects_the_entry(self) -> None:
        first = await self.computed("/counted/", HTTP_HOST="a.example.com")

        self.assertNotEqual(
            await self.computed("/counted/", HTTP_HOST="b.example.com"), first
        )
        self.assertEqual(
            await self.computed("/counted/", HTTP_HOST="a.example.com"), first
        )

    async def test_per_user_keeps_an_entry_per_user(self) -> None:
        ada = await User.objects.acreate(username="ada")
        bob = await User.objects.acreate(username="bob")
        anonymous = await self.client.get("/per-user/")
        self.client.force_authenticate(ada)
        as_ada = await self.client.get("/per-user/")
        self.client.force_authenticate(bob)
        as_bob = await self.client.get("/per-user/")
        self.client.force_authenticate(ada)
        as_ada_again = await self.client.get("/per-user/")

        self.assertEqual(
            [anonymous.json()["user"], as_ada.json()["user"], as_bob.json()["user"]],
            [None, "ada", "bob"],
        )
        self.assertEqual(as_ada_again.json(), as_ada.json())

    async def test_permissions_still_run_before_the_cache(self) -> None:
        ada = await User.objects.acreate(username="ada")
        self.client.force_authenticate(ada)
        self.assertEqual((await self.client.get("/shared/")).status_code, 200)
        self.client.force_authenticate(None)

        response = await self.client.get("/shared/")

        self.assertEqual(response.status_code, 403)

    async def test_unsuccessful_responses_are_not_cached(self) -> None:
        for url in ("/counted/", "/async-counted/"):
            for query in ("status=404", "status=500", "status=302"):
                with self.subTest(url=url, query=query):
                    first = await self.computed(f"{url}?{query}")
                    self.assertNotEqual(await self.computed(f"{url}?{query}"), first)

    async def test_other_success_statuses_are_cached(self) -> None:
        first = await self.computed("/counted/?status=203")
        self.assertEqual(await self.computed("/counted/?status=203"), first)

    async def test_responses_setting_cookies_are_not_cached(self) -> None:
        first = await self.computed("/counted/?cookie=vanilla")
        self.assertNotEqual(await self.computed("/counted/?cookie=vanilla"), first)

    async def test_private_and_no_store_responses_are_not_cached(self) -> None:
        for value in ("private", "no-store", "max-age=60, private"):
            with self.subTest(value):
                first = await self.computed("/counted/", {"cache_control": value})
                again = await self.computed("/counted/", {"cache_control": value})
                self.assertNotEqual(again, first)
        first = await self.computed("/counted/?cache_control=max-age=60")
        self.assertEqual(
            await self.computed("/counted/?cache_control=max-age=60"), first
        )

    async def test_vary_on_a_header_outside_the_key_is_not_cached(self) -> None:
        first = await self.computed("/counted/?vary=X-Tenant")
        self.assertNotEqual(await self.computed("/counted/?vary=X-Tenant"), first)
        first = await self.computed("/counted/?vary=*")
        self.assertNotEqual(await self.computed("/counted/?vary=*"), first)
        first = await self.computed("/counted/?vary=Accept-Language")
        self.assertEqual(await self.computed("/counted/?vary=Accept-Language"), first)

    async def test_browsable_api_pages_are_not_cached(self) -> None:
        templates = [
            {
                "BACKEND": "django.template.backends.django.DjangoTemplates",
                "APP_DIRS": True,
            }
        ]
        with override_settings(TEMPLATES=templates):
            first = await self.client.get("/counted/", HTTP_ACCEPT="text/html")
            second = await self.client.get("/counted/", HTTP_ACCEPT="text/html")

        self.assertEqual(first.status_code, 200)
        self.assertTrue(first["Content-Type"].startswith("text/html"))
        self.assertNotEqual(first["X-Computed"], second["X-Computed"])

    async def test_async_views_use_only_the_async_cache_api(self) -> None:
        with override_settings(CACHES=GUARDED):
            guarded = caches["default"]
            assert isinstance(guarded, GuardedLocMemCache)
            with self.assertRaises(RuntimeError):
                guarded.get("any")  # the guard works on the loop's thread

            await Product.objects.acreate(name="Widget")
            self.assertEqual(await self.names("/api/async-product-names/"), ["Widget"])
            self.assertEqual(await self.names("/api/async-products/"), ["Widget"])
            await Product.objects.aupdate(name="Gadget")
            self.assertEqual(await self.names("/api/async-product-names/"), ["Widget"])
            self.assertEqual(await self.names("/api/async-products/"), ["Widget"])
            self.assertTrue(guarded.written)
            guarded.clear()

    async def test_nested_cached_handlers_store_once(self) -> None:
        with override_settings(CACHES=GUARDED):
            guarded = caches["default"]
            assert isinstance(guarded, GuardedLocMemCache)
            guarded.clear()
            guarded.written.clear()
            await Product.objects.acreate(name="Widget")

            self.assertEqual(await self.names("/api/active-products/"), ["Widget"])

            responses = [key for key in guarded.written if ":response:" in key]
            self.assertEqual(len(responses), 1, guarded.written)
            guarded.clear()

    async def test_timeouts_from_decorator_and_from_settings(self) -> None:
        # The class's settings say TIMEOUT=300; the decorator says 1.
        short = await self.computed("/short-lived/")
        lasting = await self.computed("/counted/")
        with override_settings(RESTFLOW_CACHING={"RULES": RULES, "TIMEOUT": 1}):
            from_settings = await self.computed("/settings-timeout/")
        self.assertEqual(await self.computed("/short-lived/"), short)
        self.assertEqual(await self.computed("/settings-timeout/"), from_settings)

        await asyncio.sleep(1.2)

        self.assertNotEqual(await self.computed("/short-lived/"), short)
        self.assertNotEqual(await self.computed("/settings-timeout/"), from_settings)
        self.assertEqual(await self.computed("/counted/"), lasting)


class LocmemResponseCaching(ResponseCachingTests, AsyncAPITestCase):
    cache_backend = LOCMEM


@skip_without_redis
class RedisResponseCaching(ResponseCachingTests, AsyncAPITestCase):
    cache_backend = REDIS


# ---------------------------------------------------------------------------
# Configuration: the app, the setting, the checks.
# ---------------------------------------------------------------------------


def caching_messages(tags: list[str] | None = None) -> list[CheckMessage]:
    """The system check messages of the caching app."""
    return [
        m for m in run_checks(tags=tags) if (m.id or "").startswith("restflow_caching")
    ]


class ConfigurationTests(SimpleTestCase):
    """Mistakes in setting the app up are reported, not silently ignored."""

    def test_rules_without_the_app_are_an_error(self) -> None:
        with override_settings(
            INSTALLED_APPS=apps_without_caching(),
            ROOT_URLCONF="tests.caching_app.urls",
            CACHES=LOCMEM,
            RESTFLOW_CACHING={"RULES": RULES},
        ):
            self.assertFalse(apps.is_installed("restflow.caching"))
            request = AsyncAPIRequestFactory().get("/counted/")
            with self.assertRaisesMessage(ImproperlyConfigured, "INSTALLED_APPS"):
                views.Counted.as_view()(request)
            with self.assertRaisesMessage(ImproperlyConfigured, "INSTALLED_APPS"):
                invalidate_model(Product)

    def test_caching_without_rules_works_without_the_app(self) -> None:
        with override_settings(
            INSTALLED_APPS=apps_without_caching(),
            ROOT_URLCONF="tests.caching_app.urls",
            CACHES=LOCMEM,
            RESTFLOW_CACHING={},
        ):
            factory = AsyncAPIRequestFactory()
            first = views.Counted.as_view()(factory.get("/counted/?solo=1"))
            second = views.Counted.as_view()(factory.get("/counted/?solo=1"))
            self.assertEqual(first["X-Computed"], second["X-Computed"])
            clear_cache()

    @override_settings(INSTALLED_APPS=apps_without_caching())
    def test_rules_bind_with_the_app_and_unbind_without_it(self) -> None:
        self.assertEqual(bound_rules().senders(), frozenset())
        with caching_overrides(LOCMEM):
            self.assertTrue(post_save.has_listeners(Product))
            self.assertTrue(post_delete.has_listeners(Product))
            self.assertTrue(m2m_changed.has_listeners(User.groups.through))
            self.assertEqual(
                bound_rules().groups_for(Product), frozenset(RULES["testapp.Product"])
            )
            with override_settings(
                RESTFLOW_CACHING={"RULES": {"auth.Group": ["product-summary"]}}
            ):
                self.assertFalse(post_save.has_listeners(Product))
                self.assertTrue(post_save.has_listeners(Group))
            self.assertTrue(post_save.has_listeners(Product))
            self.assertFalse(post_save.has_listeners(Group))
        self.assertFalse(post_save.has_listeners(Product))
        self.assertEqual(bound_rules().senders(), frozenset())

    def test_rules_naming_an_unknown_model_are_an_error(self) -> None:
        with caching_overrides(LOCMEM):
            overrides = override_settings(
                RESTFLOW_CACHING={"RULES": {"testapp.Nope": ["x.Y"]}}
            )
            with self.assertRaisesMessage(ImproperlyConfigured, "'testapp.Nope'"):
                overrides.enable()
            self.assertEqual(
                bound_rules().groups_for(Product), frozenset(RULES["testapp.Product"])
            )

    def test_malformed_setting_is_an_error(self) -> None:
        cases: list[tuple[Any, str]] = [
            ([], "must be a dict"),
            ({"RULE": {}}, "unknown keys ['RULE']"),
            ({"RULES": {"Product": ["x"]}}, "not a model label"),
            ({"RULES": {"testapp.Product": "x.Y"}}, "must be a list"),
            ({"TIMEOUT": "60"}, "number of seconds"),
            ({"KEY_PREFIX": ""}, "non-empty string"),
            ({"CACHE": 1}, "must be a cache alias"),
            ({"RULES": ["testapp.Product"]}, "must map model labels"),
        ]
        for value, message in cases:
            with (
                self.subTest(value=value),
                override_settings(
                    INSTALLED_APPS=apps_without_caching(), RESTFLOW_CACHING=value
                ),
            ):
                request = AsyncAPIRequestFactory().get("/counted/")
                with self.assertRaisesMessage(ImproperlyConfigured, message):
                    views.Counted.as_view()(request)

    def test_check_warns_about_rules_naming_no_cached_view(self) -> None:
        rules = {
            "testapp.Product": [
                "tests.caching_app.views.ProductViewSet",
                "tests.caching_app.views.ProductViewSeet",
            ]
        }
        with (
            caching_overrides(LOCMEM),
            override_settings(RESTFLOW_CACHING={"RULES": rules}),
        ):
            messages = caching_messages()
        self.assertEqual([m.id for m in messages], ["restflow_caching.W001"])
        self.assertIn("ProductViewSeet", messages[0].msg)

    def test_check_accepts_the_test_rules(self) -> None:
        with caching_overrides(LOCMEM):
            messages = caching_messages()
        self.assertEqual(messages, [])

    def test_check_reports_an_unknown_cache_alias(self) -> None:
        with caching_overrides(LOCMEM, CACHE="elsewhere"):
            messages = caching_messages()
        self.assertEqual([m.id for m in messages], ["restflow_caching.E002"])

    def test_check_reports_a_setting_changed_without_a_signal(self) -> None:
        with caching_overrides(LOCMEM):
            # Plain assignment sends no setting_changed, so the app does not
            # bind (and so validate) the new value; only the check sees it.
            settings.RESTFLOW_CACHING = {"RULES": RULES, "TIMEOUT": "soon"}
            messages = caching_messages()
        self.assertEqual([m.id for m in messages], ["restflow_caching.E001"])
        self.assertIn("TIMEOUT", messages[0].msg)

    def test_rule_check_leaves_a_broken_urlconf_to_django(self) -> None:
        with (
            caching_overrides(LOCMEM),
            override_settings(ROOT_URLCONF="tests.caching_app.no_such_urls"),
        ):
            with self.assertRaises(ImportError):
                routed_cache_groups()
            # Django's own "urls" checks report the import error.
            messages = caching_messages(tags=[Tags.caches])
        self.assertEqual(messages, [])

    def test_rule_check_steps_over_routes_without_cached_handlers(self) -> None:
        # check_urls adds a function view, and an entry that is no pattern.
        rules = {"testapp.Product": ["tests.caching_app.views.Countd"]}
        with (
            caching_overrides(LOCMEM),
            override_settings(
                ROOT_URLCONF="tests.caching_app.check_urls",
                RESTFLOW_CACHING={"RULES": rules},
            ),
        ):
            groups = routed_cache_groups()
            messages = caching_messages(tags=[Tags.caches])
        self.assertEqual(groups, routed_cache_groups("tests.caching_app.urls"))
        self.assertIn("tests.caching_app.views.Counted", groups)
        self.assertEqual([m.id for m in messages], ["restflow_caching.W001"])
        self.assertIn("Countd", messages[0].msg)

    def test_checks_are_silent_without_the_app(self) -> None:
        with override_settings(
            INSTALLED_APPS=apps_without_caching(),
            RESTFLOW_CACHING={"RULES": {"no.Such": ["x"]}},
        ):
            messages = caching_messages()
        self.assertEqual(messages, [])

    def test_relations_whose_through_model_is_missing_are_not_listened_to(
        self,
    ) -> None:
        # A through model that is not installed stays a dotted name (Django's
        # model checks report it): there is no model to connect m2m_changed to.
        model = define_model_with_missing_through()
        self.addCleanup(forget_model_with_missing_through, model)
        field = model._meta.get_field("links")
        self.assertEqual(field.remote_field.through, "testapp.NoSuchThrough")

        rules = InvalidationRules(
            {model: frozenset({"some.View"}), User: frozenset({"other.View"})}
        )

        self.assertEqual(
            rules.relation_senders(),
            {User.groups.through, User.user_permissions.through},
        )

    def test_decorator_records_its_options(self) -> None:
        options = cache_options_of(views.Counted.get)
        assert options is not None
        self.assertEqual(options.headers, ("Accept-Language",))
        self.assertIsNone(cache_options_of(views.ProductViewSet.create))
        self.assertIsNotNone(cache_options_of(views.AsyncProductViewSet.alist))
        self.assertTrue(inspect.iscoroutinefunction(views.AsyncProductViewSet.alist))
        named = cache_options_of(views.NamedGroup.get)
        assert named is not None
        self.assertEqual(named.group_for(views.NamedGroup), "product-summary")
        self.assertEqual(
            options.group_for(views.Counted), "tests.caching_app.views.Counted"
        )

        def handler(view: Any, request: Any) -> None: ...

        lone = cache_options_of(cache_response(headers="X-Tenant")(handler))
        assert lone is not None
        self.assertEqual(lone.headers, ("X-Tenant",))

    def test_keys_are_hashed_and_short(self) -> None:
        request = AsyncAPIRequestFactory().get("/" + "x" * 500, {"q": "a b"})
        key = response_key("restflow", "some.View", request)
        self.assertTrue(key.startswith("restflow:response:"))
        self.assertLess(len(key), 100)
        self.assertNotIn(" ", key)
