from django.contrib import admin
from django.contrib.auth.views import LoginView, PasswordChangeView
from django.urls import include, path

from forum.views import favicon, healthz, readyz
from threads import views
from threads.ratelimit import login_ratelimit, ratelimit

urlpatterns = [
    path("healthz/", healthz, name="healthz"),
    path("readyz/", readyz, name="readyz"),
    path("favicon.ico", favicon),
    # Before the admin's own URLs: its login gets the member login's limits.
    path("admin/login/", login_ratelimit(admin.site.login)),
    path("admin/", admin.site.urls),
    path("accounts/signup/", views.signup, name="signup"),
    path(
        "accounts/login/",
        login_ratelimit(LoginView.as_view()),
        name="login",
    ),
    # Before Django's own auth URLs, which it overrides.
    path(
        "accounts/password_change/",
        ratelimit("password")(PasswordChangeView.as_view()),
        name="password_change",
    ),
    path("accounts/", include("django.contrib.auth.urls")),
    path("", include("threads.urls")),
]

handler403 = "forum.views.permission_denied"
