"""URL patterns of the schema tests, mounted by the test classes' ``urlpatterns``."""

from django.urls import include, path
from django.views.generic import RedirectView
from rest_framework.routers import DefaultRouter

from tests.schema_app import views

router = DefaultRouter()
router.register("products", views.ProductViewSet)
router.register("async-products", views.AsyncProductViewSet, basename="async-product")

urlpatterns = [
    path("api/", include(router.urls)),
    path("api/orders/", views.OrderView.as_view()),
    path("api/pets/", views.PetView.as_view()),
    path("api/shipments/", views.ShipmentView.as_view()),
    path("api/labels/", views.LabelView.as_view()),
    path("api/export/", views.ExportView.as_view()),
    path("api/attachments/", views.AttachmentView.as_view()),
    path("api/events/", views.EventsView.as_view()),
    path("api/hand-written/", views.HandWrittenJSONView.as_view()),
    path("api/ping/", views.PingView.as_view()),
    path("api/subscriptions/", views.SubscriptionView.as_view()),
    path("api/teapot/", views.TeapotView.as_view()),
    path("api/hidden/", views.HiddenView.as_view()),
    path("plain/", views.plain_django),
    path("to-hidden/", RedirectView.as_view(url="/api/hidden/")),
]
