"""What link posts, full pages and older lemmy-ui pages carry (docs/dump-format.md).

SQLite remakes ``threads_comment`` and ``threads_thread`` to add these
columns, and its final rename fails while the vote-counter triggers of
migration 0005 name those tables; they are dropped for the remake and
created again after it (on SQLite only: PostgreSQL alters in place).
"""

import importlib

import django.utils.timezone
from django.conf import settings
from django.db import migrations, models

vote_triggers = importlib.import_module("threads.migrations.0005_vote_counter_triggers")


def run_on_sqlite(statements):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor == "sqlite":
            with schema_editor.connection.cursor() as cursor:
                for statement in statements:
                    cursor.execute(statement)

    return run


drop_sqlite_triggers = run_on_sqlite(vote_triggers.SQLITE_DROP)
create_sqlite_triggers = run_on_sqlite(vote_triggers.SQLITE_CREATE)


class Migration(migrations.Migration):

    dependencies = [
        ('threads', '0006_vote_functions'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.RunPython(drop_sqlite_triggers, create_sqlite_triggers, elidable=False),
        migrations.RemoveConstraint(
            model_name='person',
            name='unique_imported_person',
        ),
        migrations.AddField(
            model_name='comment',
            name='author_shown',
            field=models.CharField(blank=True, help_text='The author as the page showed it when no person could be told from it.', max_length=255),
        ),
        migrations.AddField(
            model_name='comment',
            name='votes_shown',
            field=models.CharField(choices=[('up_down', 'up and down votes'), ('score', 'the score only'), ('none', 'no score')], default='up_down', help_text='What the imported counts hold: a score only leaves up and down unknown.', max_length=8),
        ),
        migrations.AddField(
            model_name='person',
            name='instance_known',
            field=models.BooleanField(default=True, help_text='False for an author of another instance whose host the page did not show (lemmy-ui 0.19.3 and older show display names without one); never merged with a local author of the same name.'),
        ),
        migrations.AddField(
            model_name='thread',
            name='author_badges',
            field=models.CharField(blank=True, help_text="The post author's badges: mod, admin, bot.", max_length=32),
        ),
        migrations.AddField(
            model_name='thread',
            name='community',
            field=models.CharField(blank=True, help_text='The community a full page named.', max_length=255),
        ),
        migrations.AddField(
            model_name='thread',
            name='link_domain',
            field=models.CharField(blank=True, help_text='The domain a link post points at.', max_length=253),
        ),
        migrations.AddField(
            model_name='thread',
            name='shown_comment_count',
            field=models.PositiveIntegerField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name='thread',
            name='title_source',
            field=models.CharField(choices=[('dump', 'found in a dump'), ('derived', 'derived from the text'), ('given', 'given on import')], default='derived', help_text='A found title replaces a derived one; a given one is never replaced by an import.', max_length=8),
        ),
        migrations.AddField(
            model_name='thread',
            name='votes_shown',
            field=models.CharField(choices=[('up_down', 'up and down votes'), ('score', 'the score only'), ('none', 'no score')], default='up_down', help_text='What the imported counts hold: a score only leaves up and down unknown.', max_length=8),
        ),
        migrations.AlterField(
            model_name='thread',
            name='created_at',
            field=models.DateTimeField(default=django.utils.timezone.now, help_text='When the post was made, if a full page said; else its first capture.'),
        ),
        migrations.AddIndex(
            model_name='comment',
            index=models.Index(fields=['body_key'], name='threads_com_body_ke_3a2860_idx'),
        ),
        migrations.AddConstraint(
            model_name='person',
            constraint=models.UniqueConstraint(condition=models.Q(('user__isnull', True)), fields=('name', 'instance', 'instance_known'), name='unique_imported_person'),
        ),
        migrations.RunPython(create_sqlite_triggers, drop_sqlite_triggers, elidable=False),
    ]
