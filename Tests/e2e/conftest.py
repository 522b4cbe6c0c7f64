"""End-to-end fixtures: the real `chatr` binary in a temporary folder (see Tests/support)."""
import os
import sys
import tempfile

import pytest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "support"))
from chatr_process import Server, base_env  # noqa: E402


@pytest.fixture
def server():
    with tempfile.TemporaryDirectory() as workdir:
        s = Server(base_env(), workdir)
        try:
            yield s
        finally:
            s.stop()
