"""restflow: test async Django REST framework APIs through the real ASGI cycle."""

__version__ = "0.1.0.dev0"
