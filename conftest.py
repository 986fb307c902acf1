"""Run the tests in the development configuration unless told otherwise.

pytest-django still switches DEBUG off for the run itself; this only spares
every developer from exporting a secret key to run the suite.
"""

import os

os.environ.setdefault("DJANGO_DEBUG", "1")
