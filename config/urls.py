from django.contrib import admin
from django.urls import include, path

from medbook.accounts import security
from medbook.api import fhir
from medbook.api.urls import api

# The operator logs in as everyone does (the password, then the code of an enrolled user); admin opens only to
# a session that has proved its second factor.
admin.site.login = security.admin_login  # type: ignore[method-assign]
admin.site.has_permission = security.admin_has_permission  # type: ignore[method-assign]

urlpatterns = [
    path("api/", api.urls),
    path("fhir/R4/", include((fhir.urlpatterns, "fhir"))),
    path("admin/", admin.site.urls),
    path("accounts/", include("medbook.accounts.urls")),
    path("", include("medbook.scheduling.urls")),
    path("patients/", include("medbook.patients.urls")),
    path("", include("medbook.privacy.urls")),
    path("administration/audit/", include("medbook.audit.urls")),
    path("administration/webhooks/", include("medbook.webhooks.urls")),
    path("reports/", include("medbook.reports.urls")),
    path("book/", include("medbook.online.urls")),
    path("administration/", include("medbook.institutions.urls")),
    path("", include("medbook.partners.urls")),
    path("", include("medbook.core.urls")),
]
