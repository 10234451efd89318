"""Issue 12, item 9: `python -m app` stops with a non-zero status on a bad pricing file,
naming the file, the model and the field, with one worker or several."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from uvicorn.config import STARTUP_FAILURE

from app.settings import ROOT
from tests.test_serving import free_port


@pytest.mark.parametrize("workers", [1, 2])
def test_a_malformed_pricing_file_stops_start_up_non_zero_naming_it(
    tmp_path: Path, workers: int
) -> None:
    pricing = tmp_path / "pricing"
    shutil.copytree(ROOT / "pricing_data", pricing)
    path = pricing / "openai.toml"
    text = path.read_text(encoding="utf-8")
    assert 'id = "gpt-4.1"\n' in text
    head, tail = text.split('id = "gpt-4.1"\n', 1)
    tail = tail.replace("context_window = ", 'context_window = "lots" # ', 1)
    path.write_text(head + 'id = "gpt-4.1"\n' + tail, encoding="utf-8")
    env = {
        **os.environ,
        "HOST": "127.0.0.1",
        "PORT": str(free_port()),
        "WORKERS": str(workers),
        "PRICING_DIR": str(pricing),
    }
    done = subprocess.run(
        [sys.executable, "-m", "app"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        timeout=60,
        check=False,
    )
    output = (done.stdout + done.stderr).decode()
    assert done.returncode == STARTUP_FAILURE, output[-2000:]
    assert str(path) in output
    assert "gpt-4.1" in output and "context_window" in output
