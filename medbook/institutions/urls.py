from django.urls import path
from django.views.generic import RedirectView

from medbook.institutions import views

app_name = "institutions"


urlpatterns = [
    path("settings/", views.institution_settings, name="settings"),
    # Its first address (/administration/administration/settings/, issue 23): bookmarks still lead there.
    path(
        "administration/settings/",
        RedirectView.as_view(pattern_name="institutions:settings", permanent=True, query_string=True),
    ),
    *(url for section in views.SECTIONS for url in views.section_urls(section)),
]
