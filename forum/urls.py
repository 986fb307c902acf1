from django.contrib import admin
from django.urls import include, path

from forum.views import healthz
from threads import views

urlpatterns = [
    path("healthz/", healthz, name="healthz"),
    path("admin/", admin.site.urls),
    path("accounts/signup/", views.signup, name="signup"),
    path("accounts/", include("django.contrib.auth.urls")),
    path("", include("threads.urls")),
]
