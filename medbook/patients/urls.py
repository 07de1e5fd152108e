from django.urls import path

from medbook.patients import views

app_name = "patients"
urlpatterns = [
    path("", views.patient_list, name="patient-list"),
]
