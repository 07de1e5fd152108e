from django.urls import path

from medbook.webhooks import views

app_name = "webhooks"
urlpatterns = [
    path("", views.endpoint_list, name="endpoint-list"),
    path("<int:pk>/delete/", views.endpoint_delete, name="endpoint-delete"),
    path("deliveries/<int:pk>/redeliver/", views.delivery_redeliver, name="delivery-redeliver"),
]
