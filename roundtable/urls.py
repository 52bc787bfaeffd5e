from django.contrib import admin
from django.urls import include, path

from alliances import views as alliance_views
from roundtable import views

urlpatterns = [
    path("", views.home, name="home"),
    path("healthz", views.healthz, name="healthz"),
    path("bench/ceiling/", views.bench_ceiling, name="bench_ceiling"),
    path("accounts/", include("accounts.urls")),
    path("alliances/", include("alliances.urls")),
    path("invitations/<str:token>/", alliance_views.invitation_accept, name="invitation_accept"),
    path("outbox/", include("outbox.urls")),
    path("admin/", admin.site.urls),
]
