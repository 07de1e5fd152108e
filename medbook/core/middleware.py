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
