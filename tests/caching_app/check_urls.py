"""A URLconf for the system checks: the test URLs plus entries the checks
must step over - a plain function view, and an entry that is not a URL
pattern at all (a mistake Django's own ``urls`` check reports)."""

from typing import Any

from django.urls import include, path

from tests.caching_app import views

urlpatterns: list[Any] = [
    path("", include("tests.caching_app.urls")),
    path("plain/", views.plain_django_view),
    views.Counted.as_view(),
]
