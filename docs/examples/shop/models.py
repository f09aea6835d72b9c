"""The shop's data: products (with an optional photo) and orders."""

from django.conf import settings
from django.db import models


class Product(models.Model):
    name = models.CharField(max_length=100)
    price = models.PositiveIntegerField(default=0)
    is_active = models.BooleanField(default=True)
    photo = models.FileField(upload_to="products/", blank=True)

    class Meta:
        app_label = "shop"
        ordering = ["id"]


class Order(models.Model):
    STATUSES = [("placed", "placed"), ("paid", "paid"), ("shipped", "shipped")]

    customer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE)
    product = models.ForeignKey(Product, on_delete=models.PROTECT)
    quantity = models.PositiveIntegerField(default=1)
    status = models.CharField(max_length=10, choices=STATUSES, default="placed")

    class Meta:
        app_label = "shop"
        ordering = ["id"]
