from django.urls import path

from threads import api

app_name = "threads"

urlpatterns = [
    path("api/threads/", api.thread_list, name="api-thread-list"),
    path("api/threads/<int:pk>/", api.thread_detail, name="api-thread-detail"),
]
