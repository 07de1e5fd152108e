"""The test suite's settings: production's, with a key of its own (the settings refuse to start without one)."""

import os

os.environ.setdefault("SECRET_KEY", "tests-only-key-" + "k3y" * 20)
os.environ.setdefault("AUDIT_SIGNING_KEY", "dGVzdHMtb25seS1hdWRpdC1zaWduaW5nLWtleS0zMmI=")  # 32 bytes

# Tests log in without a second factor and without waiting after a wrong password, unless they say so.
os.environ.setdefault("REQUIRE_2FA_FOR_ADMINS", "false")
os.environ.setdefault("LOGIN_FAILURE_DELAY_SECONDS", "0")
# A test's data is in its own open transaction, which audit_verify's other processes cannot see.
os.environ.setdefault("AUDIT_VERIFY_JOBS", "1")

from config.settings import *  # noqa: E402,F403
