"""The to-do pages, all in the "tasks" namespace, included once at the root (roundtable/urls.py).

`alliance_todo_patterns` sit under /alliances/<slug>/ (every view fetches the reader's membership first:
404 for a non-member; alliances/tests/test_permissions.py enumerates them); `personal_patterns` are the
reader's own: My to-dos and its buttons, and the signed one-click page from email (open without signing
in; tasks/links.py).
"""

from django.urls import include, path

from tasks import views

app_name = "tasks"

alliance_todo_patterns = [
    path("todos/", views.todo_list, name="todo_list"),
    path("todos/new/", views.todo_create, name="todo_create"),
    path("todos/<int:pk>/", views.todo_detail, name="todo_detail"),
    path("todos/<int:pk>/edit/", views.todo_edit, name="todo_edit"),
    path("todos/<int:pk>/done/", views.todo_done, name="todo_done"),
    path("todos/<int:pk>/reopen/", views.todo_reopen, name="todo_reopen"),
    path("todos/<int:pk>/drop/", views.todo_drop, name="todo_drop"),
    path("todos/<int:pk>/updates/", views.todo_update_add, name="todo_update_add"),
]

personal_patterns = [
    path("todos/", views.my_todos, name="my_todos"),
    path("todos/<int:pk>/done/", views.my_todo_done, name="my_todo_done"),
    path("todos/<int:pk>/reopen/", views.my_todo_reopen, name="my_todo_reopen"),
    path("todos/done/<str:token>/", views.todo_link, name="todo_link"),
    path("unsubscribe/<str:token>/", views.nudges_unsubscribe, name="nudges_unsubscribe"),
]

urlpatterns = [
    path("alliances/<slug:slug>/", include(alliance_todo_patterns)),
    *personal_patterns,
]
