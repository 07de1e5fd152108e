from django.urls import path

from medbook.online import views

app_name = "online"
urlpatterns = [
    path("", views.home, name="home"),
    path("<int:institution_id>/", views.institution, name="institution"),
    path("<int:institution_id>/<int:service_id>/", views.times, name="times"),
    path("<int:institution_id>/<int:service_id>/details/", views.details, name="details"),
    path("code/<str:token>/", views.verify, name="verify"),
]
