"""The order confirmation e-mail is sent by transaction.on_commit.

Three ways to test it, and the way that silently tests nothing.
"""

from django.contrib.auth.models import User
from django.core import mail

from restflow.test import AsyncAPITestCase, AsyncAPITransactionTestCase
from shop.models import Product


async def signed_in_customer(client):
    """Create a customer, authenticate the client as them; return a product."""
    khan = await User.objects.acreate_user("khan", "khan@example.com")
    client.force_authenticate(khan)
    return await Product.objects.acreate(name="Phone", price=499)


# --8<-- [start:rollback]
class ConfirmationUnderRollbackTests(AsyncAPITestCase):
    async def test_no_email_because_nothing_commits(self):
        phone = await signed_in_customer(self.client)

        response = await self.client.post("/api/orders/", {"product": phone.pk})

        self.assertEqual(response.status_code, 201)  # the order was saved...
        self.assertEqual(mail.outbox, [])  # ...but its on_commit never ran
        # --8<-- [end:rollback]

    # --8<-- [start:capture]
    async def test_capture_on_commit_callbacks(self):
        phone = await signed_in_customer(self.client)

        with self.captureOnCommitCallbacks(execute=True) as callbacks:
            response = await self.client.post("/api/orders/", {"product": phone.pk})

        self.assertEqual(len(callbacks), 1)
        order_id = response.data["id"]
        self.assertEqual(mail.outbox[0].subject, f"Order {order_id} confirmed")
        self.assertEqual(mail.outbox[0].to, ["khan@example.com"])
        # --8<-- [end:capture]


# --8<-- [start:transaction]
class ConfirmationAfterCommitTests(AsyncAPITransactionTestCase):
    async def test_email_is_sent_once_the_order_commits(self):
        phone = await signed_in_customer(self.client)

        response = await self.client.post("/api/orders/", {"product": phone.pk})

        order_id = response.data["id"]
        self.assertEqual(mail.outbox[0].subject, f"Order {order_id} confirmed")
        # --8<-- [end:transaction]
