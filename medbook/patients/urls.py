from django.urls import path

from medbook.patients import views

app_name = "patients"
urlpatterns = [
    path("", views.patient_list, name="patient-list"),
    path("search/", views.patient_search, name="patient-search"),
    path("new/", views.patient_create, name="patient-create"),
    path("duplicates/", views.patient_duplicates, name="patient-duplicates"),
    path("<int:pk>/", views.patient_edit, name="patient-edit"),
]
