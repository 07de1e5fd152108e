from django.http import HttpResponse
from django.urls import path

app_name = "institutions"


def _todo(request, *args, **kwargs):
    return HttpResponse("")


urlpatterns = [
    path(f"{name}/", _todo, name=f"{name}-list")
    for name in ["location", "physician", "service", "workinghours", "exception", "channel", "user"]
]
