from django.apps import AppConfig


class ThreadsConfig(AppConfig):
    name = "threads"
    verbose_name = "Threads"

    def ready(self):
        from django.contrib.auth.signals import user_login_failed

        from threads.auth import connect_signals
        from threads.ratelimit import count_login_failure

        connect_signals()
        user_login_failed.connect(count_login_failure, dispatch_uid="threads.ratelimit.count_login_failure")
