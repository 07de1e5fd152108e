from django.contrib import admin
from django.urls import include, path

from medbook.api import fhir
from medbook.api.urls import api

urlpatterns = [
    path("api/", api.urls),
    path("fhir/R4/", include((fhir.urlpatterns, "fhir"))),
    path("admin/", admin.site.urls),
    path("accounts/", include("medbook.accounts.urls")),
    path("", include("medbook.scheduling.urls")),
    path("patients/", include("medbook.patients.urls")),
    path("administration/audit/", include("medbook.audit.urls")),
    path("administration/webhooks/", include("medbook.webhooks.urls")),
    path("reports/", include("medbook.reports.urls")),
    path("administration/", include("medbook.institutions.urls")),
    path("", include("medbook.partners.urls")),
    path("", include("medbook.core.urls")),
]
