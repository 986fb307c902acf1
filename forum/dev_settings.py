"""Development configuration for tests and local tools: debug defaults on.

The environment still wins (``DJANGO_DEBUG=0`` gives the production checks);
this only spares every developer from exporting a secret key to run tests.
"""

import os

os.environ.setdefault("DJANGO_DEBUG", "1")

from forum.settings import *  # noqa: F403

# Tests and runserver serve from one process, so its local-memory cache may
# hold users (threads/auth.py) as Redis does in production. A shell beside
# runserver has a cache of its own: its changes to users show there within
# USER_CACHE_SECONDS.
AUTH_USER_CACHE = True
