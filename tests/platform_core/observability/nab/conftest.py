"""Location of the shared NAB dataset (tests needing it skip when it is absent)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

NAB_ROOT = Path(os.environ.get("NAB_DATASET_DIR", "/work/shared/datasets/nab"))


@pytest.fixture(scope="session")
def nab_root() -> Path:
    if not (NAB_ROOT / "golden" / "expected_scores.json").exists():
        pytest.skip(f"NAB dataset not found under {NAB_ROOT}")
    return NAB_ROOT
