from django.urls import path

from outbox import views

app_name = "outbox"

urlpatterns = [
    path("", views.delivery_list, name="delivery_list"),
    path("<int:pk>/", views.delivery_detail, name="delivery_detail"),
    path("<int:pk>/html/", views.delivery_html, name="delivery_html"),
]
