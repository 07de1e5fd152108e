from django.urls import path

from medbook.core import health, views

app_name = "core"
urlpatterns = [
    path("", views.home, name="home"),
    path("language/", views.language_set, name="language-set"),
    path("healthz", health.healthz, name="healthz"),
    path("readyz", health.readyz, name="readyz"),
]
