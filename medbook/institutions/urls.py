from django.urls import URLPattern, path

from medbook.institutions import views
from medbook.partners.views import channel_matrix

app_name = "institutions"


def section_urls(section: views.Section) -> list[URLPattern]:
    """The list of a section and, where it has them, its add, edit and delete pages."""
    slug, noun, kwargs = section.slug, section.noun, {"section": section}
    urls = [path(f"{slug}/", views.object_list, kwargs, name=f"{noun}-list")]
    if section.form_class:
        urls += [
            path(f"{slug}/add/", views.object_create, kwargs, name=f"{noun}-create"),
            path(f"{slug}/<int:pk>/", views.object_edit, kwargs, name=f"{noun}-edit"),
        ]
    if section.deletable:
        urls.append(path(f"{slug}/<int:pk>/delete/", views.object_delete, kwargs, name=f"{noun}-delete"))
    return urls


urlpatterns = [
    *(url for section in views.SECTIONS for url in section_urls(section)),
    path("channels/", channel_matrix, name="channel-list"),  # "Traffic Channels" (P-9)
    path("users/", views.user_list, name="user-list"),
    path("users/add/", views.user_create, name="user-create"),
    path("users/<int:pk>/active/", views.user_toggle, name="user-toggle"),
]
