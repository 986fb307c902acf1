from django.urls import path

from threads import api, views

app_name = "threads"

urlpatterns = [
    path("", views.home, name="home"),
    path("threads/<int:pk>/", views.thread_short, name="thread-short"),
    path("threads/<int:pk>/vote/", views.thread_vote, name="thread-vote"),
    path("threads/<int:pk>/reply/", views.thread_reply, name="thread-reply"),
    path("threads/<int:pk>/lock/", views.thread_lock, name="thread-lock"),
    # After the actions: a slug never takes their names (Thread.save).
    path("threads/<int:pk>/<slug:slug>/", views.thread_detail, name="thread"),
    path("comments/<int:pk>/", views.comment_detail, name="comment"),
    path("comments/<int:pk>/vote/", views.comment_vote, name="comment-vote"),
    path("comments/<int:pk>/reply/", views.comment_reply, name="comment-reply"),
    path("comments/<int:pk>/edit/", views.comment_edit, name="comment-edit"),
    path("comments/<int:pk>/delete/", views.comment_delete, name="comment-delete"),
    path("comments/<int:pk>/remove/", views.comment_remove, name="comment-remove"),
    # A path: imported names may hold "/", which servers decode from %2F (Person.profile_url).
    path("u/<path:handle>", views.profile, name="profile"),
    path("api/threads/", api.thread_list, name="api-thread-list"),
    path("api/threads/<int:pk>/", api.thread_detail, name="api-thread-detail"),
]
