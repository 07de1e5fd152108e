from django.urls import path

from medbook.partners import views

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
    # The contact person's registration link (N-1).
    path("partner/register/<str:token>/", views.register, name="register"),
    path("partner/register/<str:token>/renew/", views.register_renew, name="register-renew"),
]
