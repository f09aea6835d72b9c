"""Whether clients check responses against the OpenAPI schema unless told.

Kept apart from the client so that the pytest plugin can set it (from the
``restflow_validate_schema`` ini option) before Django is configured.
"""

#: The default of ``AsyncAPIClient(validate_schema=None)``.
validate_schema = False
