from django.apps import AppConfig


class ThreadsConfig(AppConfig):
    name = "threads"
    verbose_name = "Threads"

    def ready(self):
        from threads.auth import connect_signals

        connect_signals()
