from django.urls import path

from medbook.scheduling import agenda_views, views
from medbook.scheduling.administration import administration_urls

app_name = "scheduling"
urlpatterns = [
    path("calendar/", views.calendar, name="calendar"),
    path("agenda/", agenda_views.agenda, name="agenda"),
    path("calendar/book/", views.booking_create, name="booking-create"),
    path("calendar/bookings/<int:pk>/", views.booking_detail, name="booking-detail"),
    path("calendar/bookings/<int:pk>/move/", views.booking_move, name="booking-move"),
    path("calendar/bookings/<int:pk>/cancel/", views.booking_cancel, name="booking-cancel"),
    path("calendar/bookings/<int:pk>/attendance/", views.booking_attendance, name="booking-attendance"),
    path("calendar/bookings/<int:pk>/payment/", views.booking_payment, name="booking-payment"),
    *administration_urls(),  # working hours, leave and holidays
]
