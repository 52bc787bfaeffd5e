from django.contrib import admin
from django.urls import include, path
from django.views.generic import RedirectView

from accounts import views as account_views
from alliances import views as alliance_views
from meetings.views import feed as feed_views
from roundtable import views

urlpatterns = [
    path("", views.home, name="home"),
    path("healthz", views.healthz, name="healthz"),
    path("bench/ceiling/", views.bench_ceiling, name="bench_ceiling"),
    path("accounts/", include("accounts.urls")),
    path("alliances/", include("alliances.urls")),
    path("alliances/<slug:slug>/", include("meetings.urls")),
    # To-dos: /alliances/<slug>/todos/… and the reader's own /todos/… (one "tasks" namespace, tasks/urls.py).
    path("", include("tasks.urls")),
    path("invitations/<str:token>/", alliance_views.invitation_accept, name="invitation_accept"),
    # Each person's calendar feed: the token is the credential, no sign-in (meetings/feed.py).
    path("calendar/<str:token>.ics", feed_views.calendar_feed, name="calendar_feed"),
    path("outbox/", include("outbox.urls")),
    # The admin signs in, and changes its password, on the site's own pages, where password guesses are
    # limited; these come first, so they answer the admin's own URLs.
    path("admin/login/", account_views.admin_login),
    path("admin/password_change/", RedirectView.as_view(pattern_name="accounts:password_change")),
    path("admin/", admin.site.urls),
]
