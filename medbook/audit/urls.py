from django.urls import path

from medbook.audit import views

app_name = "audit"
urlpatterns = [
    path("", views.entry_list, name="entry-list"),
    path("<int:pk>/proof/", views.entry_proof, name="entry-proof"),
    path("public-key/", views.public_key, name="public-key"),
]
