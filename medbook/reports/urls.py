from django.urls import path

from medbook.reports import views

app_name = "reports"
urlpatterns = [
    # The institution's reports (R-1 … R-3) and its copy of the settlement.
    path("bookings/", views.booking_report, name="booking-report"),
    path("traffic/", views.traffic, name="traffic"),
    path("partner-bookings/", views.partner_bookings, name="partner-bookings"),
    path("partner-bookings/<int:pk>/cancel/", views.partner_booking_cancel, name="partner-booking-cancel"),
    path("settlement/", views.settlement, name="settlement"),
    path("settlement/<int:pk>.<str:fmt>", views.settlement_download, name="settlement-download"),
    path("settlement/<int:pk>/close/", views.settlement_close, name="settlement-close"),
    path(
        "settlement/closed/<int:pk>.<str:fmt>",
        views.settlement_closed_download,
        name="settlement-closed-download",
    ),
    # The partner's own statements at each institution it works with.
    path("statements/", views.partner_statement_list, name="partner-statements"),
    path(
        "statements/<int:pk>.<str:fmt>", views.partner_statement_download, name="partner-statement-download"
    ),
    path(
        "statements/closed/<int:pk>.<str:fmt>",
        views.partner_statement_closed_download,
        name="partner-statement-closed-download",
    ),
]
