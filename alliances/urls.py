from django.urls import include, path

from alliances import views

app_name = "alliances"

alliance_patterns = [
    path("", views.alliance_detail, name="alliance_detail"),
    path("charter/", views.charter_detail, name="charter_detail"),
    path("charter/history/", views.charter_history, name="charter_history"),
    path("charter/purpose/", views.charter_purpose_edit, name="charter_purpose_edit"),
    path("charter/logistics/", views.charter_logistics_edit, name="charter_logistics_edit"),
    path("charter/norms/new/", views.norm_create, name="norm_create"),
    path("charter/norms/<int:pk>/edit/", views.norm_edit, name="norm_edit"),
    path("charter/norms/<int:pk>/move/", views.norm_move, name="norm_move"),
    path("charter/norms/<int:pk>/retire/", views.norm_retire, name="norm_retire"),
    path("members/", views.member_list, name="member_list"),
    path("members/invite/", views.invitation_create, name="invitation_create"),
    path("members/me/", views.member_edit, name="member_edit"),
    path("members/leave/", views.member_leave, name="member_leave"),
    path("members/former/", views.former_member_list, name="former_member_list"),
    path("members/<int:pk>/steward/", views.member_steward, name="member_steward"),
    path("members/<int:pk>/deactivate/", views.member_deactivate, name="member_deactivate"),
    path("invitations/<int:pk>/cancel/", views.invitation_cancel, name="invitation_cancel"),
    path("invitations/<int:pk>/resend/", views.invitation_resend, name="invitation_resend"),
    path("deliveries/", views.delivery_list, name="delivery_list"),
    path("deliveries/<int:pk>/retry/", views.delivery_retry, name="delivery_retry"),
]

urlpatterns = [
    path("", views.alliance_list, name="alliance_list"),
    path("new/", views.alliance_create, name="alliance_create"),
    path("<slug:slug>/", include(alliance_patterns)),
]
