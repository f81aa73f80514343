"""The API's OpenAPI schema class (settings: ``REST_FRAMEWORK["DEFAULT_SCHEMA_CLASS"]``).

Its own module: drf-spectacular's AutoSchema imports DRF's generic views, which read the
pagination setting that names ``config.api``.
"""

from drf_spectacular.openapi import AutoSchema as SpectacularAutoSchema
from drf_spectacular.utils import OpenApiResponse
from rest_framework.permissions import AllowAny


class AutoSchema(SpectacularAutoSchema):
    """drf-spectacular's schema, with the error answers every operation can give documented
    where the view does not name them itself (the API's clients, and the schema-driven fuzz
    test, rely on the documented status codes being complete):

    * 401 on every operation that needs a signed-in caller;
    * 400 on every operation that reads input: a request body or query parameters
      (filters, pagination);
    * 404 on every operation on one object (a path parameter);
    * 415 on every operation with a request body (a media type it does not read, or a body
      that cannot be parsed as the one named).
    """

    ERRORS = {
        400: "Invalid input: see `errors`.",
        401: "Not logged in.",
        404: "No such object, or one the caller cannot see.",
        415: "The request body's media type is not one the operation reads.",
    }

    def get_operation(self, *args, **kwargs):
        operation = super().get_operation(*args, **kwargs)
        if operation is None:
            return None
        parameters = operation.get("parameters", [])
        codes = []
        if any(not isinstance(permission, AllowAny) for permission in
               self.view.get_permissions()):
            codes.append(401)
        if "requestBody" in operation or any(p["in"] == "query" for p in parameters):
            codes.append(400)
        if any(p["in"] == "path" for p in parameters):
            codes.append(404)
        if "requestBody" in operation:
            codes.append(415)
        responses = operation["responses"]
        for code in codes:
            if str(code) not in responses:
                responses[str(code)] = self._get_response_for_code(
                    OpenApiResponse(self._error_serializer(), description=self.ERRORS[code]),
                    str(code))
        return operation

    @staticmethod
    def _error_serializer():
        # The error shape's serializer sits with the API's other shapes (a lazy import: the
        # settings name this class before the apps are loaded).
        from cycles.serializers import ApiErrorSerializer

        return ApiErrorSerializer
