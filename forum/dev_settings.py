"""Development configuration for tests and local tools: debug defaults on.

The environment still wins (``DJANGO_DEBUG=0`` gives the production checks);
this only spares every developer from exporting a secret key to run tests.
"""

import os

os.environ.setdefault("DJANGO_DEBUG", "1")

from forum.settings import *  # noqa: E402,F403

# Development and tests run in one process, so its local-memory cache may
# hold users (threads/auth.py) as Redis does in production.
AUTH_USER_CACHE = True
