from django.urls import path

from medbook.privacy import views

app_name = "privacy"
urlpatterns = [
    path("patients/<int:pk>/rights/", views.patient_rights, name="patient-rights"),
    path("patients/<int:pk>/rights/request/", views.request_create, name="request-create"),
    path("patients/<int:pk>/rights/export/", views.patient_export, name="patient-export"),
    path("patients/<int:pk>/rights/restriction/", views.patient_restriction, name="patient-restriction"),
    path("patients/<int:pk>/rights/erase/", views.patient_erase, name="patient-erase"),
    path("administration/data-requests/", views.request_list, name="request-list"),
    path("administration/processing-record/", views.processing_record, name="processing-record"),
    path("partner/processing-record/", views.partner_processing_record, name="partner-processing-record"),
]
