from medbook.institutions import views

app_name = "institutions"


urlpatterns = [
    *(url for section in views.SECTIONS for url in views.section_urls(section)),
]
