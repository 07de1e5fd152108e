"""WSGI entry point."""

import gc
import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
application = get_wsgi_application()
# What is loaded by now (Django, the apps, their modules: about 150,000 objects) lives as long as the
# process: frozen, the garbage collector's full collections no longer walk it (one took about 75 ms, a
# request's time several times over, once in a few hundred requests).
gc.collect()  # what is garbage already is not frozen for good
gc.freeze()
