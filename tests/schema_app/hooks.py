"""drf-spectacular customisations that some schema tests switch on.

Postprocessing hooks (``SPECTACULAR_SETTINGS["POSTPROCESSING_HOOKS"]``)
rewrite the finished document; a generator class
(``DEFAULT_GENERATOR_CLASS``) can change how it is built. The tests patch
them in for one test, through drf-spectacular's ``patched_settings``.
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.generators import SchemaGenerator

ORDERS = "/api/orders/"


def share_bodies(result: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
    """Moves the 200 responses of orders and exports, and the orders'
    request body, to ``components`` and refers to them with ``$ref``, as
    projects do to share them between operations."""
    orders = result["paths"][ORDERS]
    export = result["paths"]["/api/export/"]["get"]
    components = result.setdefault("components", {})
    components["responses"] = {
        "Order": orders["get"]["responses"]["200"],
        "Export": export["responses"]["200"],
    }
    components["requestBodies"] = {"NewOrder": orders["post"]["requestBody"]}
    orders["get"]["responses"]["200"] = {"$ref": "#/components/responses/Order"}
    export["responses"]["200"] = {"$ref": "#/components/responses/Export"}
    orders["post"]["requestBody"] = {"$ref": "#/components/requestBodies/NewOrder"}
    return result


def refer_outside(result: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
    """Refers the orders' 200 response to another file. This document has
    a ``/components/schemas/Order`` too: only the file name says the
    reference leads elsewhere."""
    result["paths"][ORDERS]["get"]["responses"]["200"] = {
        "$ref": "shared.yaml#/components/schemas/Order"
    }
    return result


def refer_to_nothing(result: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
    """Refers the orders' 200 response to a component nobody defined."""
    result["paths"][ORDERS]["get"]["responses"]["200"] = {
        "$ref": "#/components/responses/Missing"
    }
    return result


def refer_in_a_circle(result: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
    """Refers the orders' 200 response to a component that refers back."""
    components = result.setdefault("components", {})
    components["responses"] = {
        "Loop": {"$ref": "#/paths/~1api~1orders~1/get/responses/200"}
    }
    result["paths"][ORDERS]["get"]["responses"]["200"] = {
        "$ref": "#/components/responses/Loop"
    }
    return result


def drop_pets(result: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
    """Leaves the pets operation out of the published document."""
    del result["paths"]["/api/pets/"]["get"]
    return result


class HealthCheckGenerator(SchemaGenerator):
    """Adds an operation of its own, which no URL pattern of the project
    serves (the load balancer answers it)."""

    def parse(self, input_request: Any, public: bool) -> Any:
        paths = super().parse(input_request, public)
        paths["/health/"] = {
            "get": {
                "operationId": "health",
                "responses": {"200": {"description": "The service is up."}},
            }
        }
        return paths
