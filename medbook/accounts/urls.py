from django.contrib.auth import views as auth_views
from django.urls import path

from medbook.accounts import token_views, views

app_name = "accounts"
urlpatterns = [
    path("login/", views.LoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("password-reset/", views.PasswordResetView.as_view(), name="password-reset"),
    path("password-reset/sent/", views.PasswordResetDoneView.as_view(), name="password-reset-done"),
    path(
        "password/<uidb64>/<token>/",
        views.PasswordResetConfirmView.as_view(),
        name="password-reset-confirm",
    ),
    path("password/done/", views.PasswordResetCompleteView.as_view(), name="password-reset-complete"),
    path("two-factor/", views.two_factor, name="two-factor"),
    path("two-factor/setup/", views.two_factor_setup, name="two-factor-confirm"),
    path("two-factor/verify/", views.two_factor_verify, name="two-factor-verify"),
    path("two-factor/recovery-codes/", views.two_factor_recovery, name="two-factor-recovery"),
    path("two-factor/off/", views.two_factor_off, name="two-factor-disable"),
    path("confirm-password/", views.reauthenticate, name="reauthenticate"),
    path("email-notifications/", views.email_preferences, name="email-preferences"),
    path("switch/", views.switch_organization, name="organization-switch"),
    path("switch/ask/", views.organization_switch_ask, name="organization-switch-ask"),
    path("members/", views.member_list, name="member-list"),
    path("members/two-factor/", views.two_factor_policy, name="two-factor-policy"),
    path("members/add/", views.member_create, name="member-create"),
    path("members/<int:pk>/", views.member_edit, name="member-edit"),
    path("members/<int:pk>/active/", views.member_toggle, name="member-toggle"),
    path("api-tokens/", token_views.token_list, name="api-token-list"),
    path("api-tokens/<int:pk>/revoke/", token_views.token_revoke, name="api-token-revoke"),
    path("members/accept/<str:token>/", views.membership_accept_view, name="membership-accept"),
]
