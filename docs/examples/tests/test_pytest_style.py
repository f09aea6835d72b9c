"""The same kind of tests in pytest style, with restflow's fixtures.

async_api_client and async_api_rf come from restflow's pytest plugin, which
pytest loads by itself once restflow is installed. The django_db marker and
the mailoutbox and django_capture_on_commit_callbacks fixtures are
pytest-django's. docs/pytest.md shows this file.
"""

import asyncio

import pytest
import pytest_asyncio
from django.contrib.auth.models import User

from restflow.test import force_authenticate
from shop.models import Product
from shop.views import Me, OrderList


# --8<-- [start:isolation]
# --8<-- [start:client]
@pytest.mark.asyncio
@pytest.mark.django_db
async def test_list_products(async_api_client):
    await Product.objects.acreate(name="Phone", price=499)

    response = await async_api_client.get("/api/products/")

    assert response.status_code == 200
    assert [p["name"] for p in response.data] == ["Phone"]


@pytest.mark.asyncio
@pytest.mark.django_db
async def test_the_previous_test_was_rolled_back():
    assert await Product.objects.acount() == 0
    # --8<-- [end:client]


@pytest.mark.django_db
def test_sync_tests_start_clean_too():
    assert Product.objects.count() == 0
    # --8<-- [end:isolation]


# --8<-- [start:fixtures]
@pytest.mark.asyncio
@pytest.mark.django_db
async def test_signed_in_users_can_add_products(async_api_client):
    khan = await User.objects.acreate_user("khan")
    async_api_client.force_authenticate(khan)

    response = await async_api_client.post("/api/products/", {"name": "Tablet"})

    assert response.status_code == 201
    assert await Product.objects.filter(name="Tablet").aexists()


@pytest.mark.asyncio
@pytest.mark.django_db
async def test_an_async_view_on_its_own(async_api_rf):
    khan = await User.objects.acreate_user("khan")
    request = async_api_rf.get("/api/users/me/")
    force_authenticate(request, user=khan)

    response = await Me.as_view()(request)

    assert response.data["username"] == "khan"
    assert response.data["authenticated_by"] == "ForcedAuthentication"
    # --8<-- [end:fixtures]


# --8<-- [start:async-fixtures]
# --8<-- [start:async-fixture]
@pytest_asyncio.fixture
async def customer():
    return await User.objects.acreate_user("khan", "khan@example.com")


@pytest.mark.asyncio
@pytest.mark.django_db
async def test_orders_with_the_factory(async_api_rf, customer):
    request = async_api_rf.get("/api/orders/")
    force_authenticate(request, user=customer)

    response = await OrderList.as_view()(request)

    assert response.data == []
    # --8<-- [end:async-fixture]


@pytest_asyncio.fixture
async def price_updates():
    """A queue; a task started here applies each (product, price) put in it."""
    updates = asyncio.Queue()

    async def apply_updates():
        while True:
            product, price = await updates.get()
            product.price = price
            await product.asave()
            updates.task_done()

    worker = asyncio.create_task(apply_updates())
    yield updates
    worker.cancel()


@pytest.mark.asyncio
@pytest.mark.django_db
async def test_price_updates_are_applied(async_api_client, price_updates):
    phone = await Product.objects.acreate(name="Phone", price=499)

    await price_updates.put((phone, 449))
    await price_updates.join()

    response = await async_api_client.get(f"/api/products/{phone.pk}/")
    assert response.data["price"] == 449


@pytest.mark.asyncio
@pytest.mark.django_db
async def test_the_customer_was_rolled_back():
    assert not await User.objects.filter(username="khan").aexists()
    # --8<-- [end:async-fixtures]


# --8<-- [start:on-commit]
@pytest.mark.asyncio
@pytest.mark.django_db
async def test_no_email_while_nothing_commits(async_api_client, customer, mailoutbox):
    phone = await Product.objects.acreate(name="Phone", price=499)
    async_api_client.force_authenticate(customer)

    response = await async_api_client.post("/api/orders/", {"product": phone.pk})

    assert response.status_code == 201
    assert mailoutbox == []


@pytest.mark.asyncio
@pytest.mark.django_db
async def test_email_from_captured_callbacks(
    async_api_client, customer, mailoutbox, django_capture_on_commit_callbacks
):
    phone = await Product.objects.acreate(name="Phone", price=499)
    async_api_client.force_authenticate(customer)

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = await async_api_client.post("/api/orders/", {"product": phone.pk})

    assert len(callbacks) == 1
    assert [m.subject for m in mailoutbox] == [f"Order {response.data['id']} confirmed"]


# --8<-- [start:transaction]
@pytest.mark.asyncio
@pytest.mark.django_db(transaction=True)
async def test_confirmation_email_after_commit(async_api_client, customer, mailoutbox):
    phone = await Product.objects.acreate(name="Phone", price=499)
    async_api_client.force_authenticate(customer)

    response = await async_api_client.post("/api/orders/", {"product": phone.pk})

    assert response.status_code == 201
    assert [m.subject for m in mailoutbox] == [f"Order {response.data['id']} confirmed"]
    # --8<-- [end:transaction]
    # --8<-- [end:on-commit]
