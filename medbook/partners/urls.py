from django.urls import path

from medbook.partners.views import book, feed, module, portal, registration

app_name = "partners"
urlpatterns = [
    # The institution admin's "Administration / Partner Module" and the "Traffic Channels" matrix.
    path("administration/partners/", module.partner_list, name="partner-list"),
    path("administration/partners/add/", module.partner_create, name="partner-create"),
    path("administration/partners/<int:pk>/", module.partner_edit, name="partner-edit"),
    path("administration/partners/<int:pk>/delete/", module.partner_delete, name="partner-delete"),
    path("administration/partners/<int:pk>/resend/", module.partner_resend, name="partner-resend"),
    path("administration/channels/", module.channel_matrix, name="channel-list"),  # "Traffic Channels" (P-9)
    path(
        "administration/channels/<int:partnership_pk>/<int:service_pk>/",
        module.matrix_cell,
        name="matrix-cell",
    ),
    path("administration/channels/online/<int:service_pk>/", module.online_cell, name="online-cell"),
    # The partner's portal.
    path("partner/", portal.partner_home, name="home"),
    path("partner/partnerships/<int:pk>/", portal.partnership_answer, name="partnership-answer"),
    path("partner/terms/", portal.gtc_accept, name="gtc-accept"),
    path("partner/organisation/", portal.partner_details, name="partner-details"),
    # Book to partner and the partner's own bookings.
    path("partner/book/", book.book, name="book"),
    path("partner/book/first-free/", book.book_first_free, name="book-first-free"),
    path("partner/book/slot/", book.book_slot, name="book-slot"),
    path("partner/book/slot/release/", book.book_slot_release, name="book-slot-release"),
    path("partner/book/patients/", book.patient_search, name="patient-search"),
    path("partner/bookings/", feed.booking_list, name="booking-list"),
    path("partner/bookings/<int:pk>/", book.booking_detail, name="booking-detail"),
    path("partner/bookings/<int:pk>/move/", book.booking_move, name="booking-move"),
    path("partner/bookings/<int:pk>/note/", book.booking_note, name="booking-note"),
    path("partner/bookings/<int:pk>/cancel/", book.booking_cancel, name="booking-cancel"),
    path("partner/bookings/<int:pk>/undo/", book.booking_undo, name="booking-undo"),
    path("partner/bookings/feed/", feed.feed_settings, name="feed-settings"),
    path("partner/feed/<str:token>.ics", feed.feed, name="feed"),
    # The contact person's registration link (N-1).
    path("partner/register/<str:token>/", registration.register, name="register"),
    path("partner/register/<str:token>/renew/", registration.register_renew, name="register-renew"),
    path("partner/claims/", registration.claim_list, name="claim-list"),
]
