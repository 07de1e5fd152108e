from django.urls import path

from medbook.institutions import views

app_name = "institutions"


urlpatterns = [
    path("administration/settings/", views.institution_settings, name="settings"),
    *(url for section in views.SECTIONS for url in views.section_urls(section)),
]
