import subprocess
import sys


def test_embedded_default_is_sqlite_with_eager_celery():
    """With nothing configured the product runs on SQLite with tasks executed in-process."""
    code = (
        "import django, os; os.environ['DJANGO_SETTINGS_MODULE']='nymble.settings'; django.setup();"
        "from django.conf import settings as s;"
        "print(s.DATABASES['default']['ENGINE'], s.CELERY_TASK_ALWAYS_EAGER, s.CACHES['default']['BACKEND'])"
    )
    env = {"PATH": "/usr/bin:/bin"}
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True).stdout
    assert out.split() == ["django.db.backends.sqlite3", "True", "nymble.cache.AtomicDatabaseCache"]
