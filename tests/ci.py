"""Whether the tests run in CI, where nothing may be skipped: a missing browser, database or model
set fails the run instead. One rule for every test and for scripts/test.sh: CI=1, true or yes."""

from __future__ import annotations

import os


def in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() in {"1", "true", "yes"}
