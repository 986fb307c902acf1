from django.apps import AppConfig


class ThreadsConfig(AppConfig):
    name = "threads"
    verbose_name = "Threads"

    def ready(self):
        from django.contrib.auth.signals import user_login_failed
        from django.db.backends.signals import connection_created

        from threads import page_cache
        from threads.auth import connect_signals
        from threads.db import register_sqlite_functions
        from threads.ratelimit import count_login_failure

        connect_signals()
        page_cache.connect_signals()
        connection_created.connect(register_sqlite_functions, dispatch_uid="threads.db.register_sqlite_functions")
        user_login_failed.connect(count_login_failure, dispatch_uid="threads.ratelimit.count_login_failure")
