"""Loaded with -p before pytest-django reads settings: the environment tests
run in. Production defaults stay on (DEBUG off); only what a test client over
plain HTTP cannot satisfy is relaxed."""

import os

os.environ.setdefault(
    "SECRET_KEY", "tests-only-secret-key-not-for-production-use-0123456789"
)
os.environ["SECURE_SSL_REDIRECT"] = "false"
os.environ["SECURE_COOKIES"] = "false"
os.environ.setdefault("ALLOWED_HOSTS", "testserver,127.0.0.1,localhost")
