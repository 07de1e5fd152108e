from django.urls import path

from medbook.core import views

app_name = "core"
urlpatterns = [
    path("", views.home, name="home"),
    path("language/", views.language_set, name="language-set"),
]
