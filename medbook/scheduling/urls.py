from django.urls import path

from medbook.scheduling import agenda_views, manage_views, views
from medbook.scheduling.administration import administration_urls

app_name = "scheduling"
urlpatterns = [
    path("calendar/", views.calendar, name="calendar"),
    path("agenda/", agenda_views.agenda, name="agenda"),
    path("calendar/first-free/", views.first_free_times, name="first-free"),
    path("calendar/book/", views.booking_create, name="booking-create"),
    path("calendar/book/release/", views.booking_hold_release, name="booking-hold-release"),
    path("calendar/bookings/<int:pk>/", views.booking_detail, name="booking-detail"),
    path("calendar/bookings/<int:pk>/move/", views.booking_move, name="booking-move"),
    path("calendar/bookings/<int:pk>/cancel/", views.booking_cancel, name="booking-cancel"),
    path("calendar/bookings/<int:pk>/undo/", views.booking_undo, name="booking-undo"),
    path("calendar/bookings/<int:pk>/attendance/", views.booking_attendance, name="booking-attendance"),
    path("calendar/bookings/<int:pk>/approve/", views.booking_approve, name="booking-approve"),
    path("calendar/bookings/<int:pk>/payment/", views.booking_payment, name="booking-payment"),
    path("calendar/bookings/<int:pk>/link-revoke/", views.booking_link_revoke, name="booking-link-revoke"),
    # The patient's page of one booking, logged out, from the link in their e-mail (B-14).
    path("appointment/<str:token>/", manage_views.manage_page, name="manage"),
    path("appointment/<str:token>/cancel/", manage_views.manage_cancel, name="manage-cancel"),
    path("appointment/<str:token>/move/", manage_views.manage_move, name="manage-move"),
    path("appointment/<str:token>/confirm/", manage_views.manage_confirm, name="manage-confirm"),
    *administration_urls(),  # working hours, leave and holidays
]
