"""Domain errors mapped to HTTP in one place: a clear message and a 4xx, never a 500."""

from django.shortcuts import render

from medbook.core.errors import DomainError


class DomainErrorMiddleware:
    """Render a DomainError escaping a view as a page (or htmx fragment) with its status code."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if isinstance(exception, DomainError):
            template = "core/error_fragment.html" if getattr(request, "htmx", False) else "core/error.html"
            response = render(request, template, {"message": exception.message}, status=exception.status_code)
            retry_after = getattr(exception, "retry_after", None)
            if retry_after is not None:
                response["Retry-After"] = str(max(1, int(retry_after)))
            return response
        return None


class NoStoreMiddleware:
    """Mark every answer of the JSON API and FHIR `Cache-Control: no-store` (errors and 401s included):
    they carry patients' and tenants' data that no browser or proxy cache may keep."""

    PREFIXES = ("/api/", "/fhir/")

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if request.path.startswith(self.PREFIXES):
            response["Cache-Control"] = "no-store"
            response.setdefault("Pragma", "no-cache")  # HTTP/1.0 caches
        return response
