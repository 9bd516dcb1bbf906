import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "newsroom.settings")

from newsroom.pagecache import PageCacheApp  # noqa: E402

# Cache hits are answered before Django's request handling runs.
application = PageCacheApp(get_wsgi_application())
