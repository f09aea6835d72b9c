"""The same kind of tests in pytest style, with restflow's fixtures.

async_api_client and async_api_rf come from restflow's pytest plugin, which
pytest loads by itself once restflow is installed. The django_db marker and
the mailoutbox and django_user_model fixtures are pytest-django's.
"""

import pytest
import pytest_asyncio
from django.contrib.auth.models import User

from restflow.test import force_authenticate
from shop.models import Product
from shop.views import OrderList


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
