from django.urls import path

from medbook.scheduling import views

app_name = "scheduling"
urlpatterns = [
    path("", views.calendar, name="calendar"),
    path("book/", views.booking_create, name="booking-create"),
    path("bookings/<int:pk>/", views.booking_detail, name="booking-detail"),
    path("bookings/<int:pk>/move/", views.booking_move, name="booking-move"),
    path("bookings/<int:pk>/cancel/", views.booking_cancel, name="booking-cancel"),
]
