from django.urls import path

from medbook.partners import feed_views, partner_views, views

app_name = "partners"
urlpatterns = [
    # The institution admin's "Administration / Partner Module" and the "Traffic Channels" matrix.
    path("administration/partners/", views.partner_list, name="partner-list"),
    path("administration/partners/add/", views.partner_create, name="partner-create"),
    path("administration/partners/<int:pk>/", views.partner_edit, name="partner-edit"),
    path("administration/partners/<int:pk>/delete/", views.partner_delete, name="partner-delete"),
    path("administration/partners/<int:pk>/resend/", views.partner_resend, name="partner-resend"),
    path(
        "administration/channels/<int:partnership_pk>/<int:service_pk>/",
        views.matrix_cell,
        name="matrix-cell",
    ),
    # The partner's side.
    path("partner/", views.partner_home, name="home"),
    path("partner/partnerships/<int:pk>/", views.partnership_answer, name="partnership-answer"),
    path("partner/terms/", views.gtc_accept, name="gtc-accept"),
    path("partner/users/", partner_views.user_list, name="user-list"),
    path("partner/users/add/", partner_views.user_create, name="user-create"),
    path("partner/users/<int:pk>/", partner_views.user_edit, name="user-edit"),
    path("partner/users/<int:pk>/active/", partner_views.user_toggle, name="user-toggle"),
    path("partner/book/", partner_views.book, name="book"),
    path("partner/book/slot/", partner_views.book_slot, name="book-slot"),
    path("partner/book/patients/", partner_views.patient_search, name="patient-search"),
    path("partner/bookings/", feed_views.booking_list, name="booking-list"),
    path("partner/bookings/<int:pk>/", partner_views.booking_detail, name="booking-detail"),
    path("partner/bookings/<int:pk>/move/", partner_views.booking_move, name="booking-move"),
    path("partner/bookings/<int:pk>/note/", partner_views.booking_note, name="booking-note"),
    path("partner/bookings/<int:pk>/cancel/", partner_views.booking_cancel, name="booking-cancel"),
    path("partner/bookings/feed/", feed_views.feed_settings, name="feed-settings"),
    path("partner/feed/<str:token>.ics", feed_views.feed, name="feed"),
    # The contact person's registration link (N-1).
    path("partner/register/<str:token>/", views.register, name="register"),
    path("partner/register/<str:token>/renew/", views.register_renew, name="register-renew"),
]
