"""The README's run command, end to end: it migrates a new database, loads the demo data,
publishes the shipped diagrams, prints its URL and logins, and the URL answers."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(url: str, process: subprocess.Popen, seconds: float = 120) -> bytes:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"the run command exited with {process.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                return response.read()
        except OSError:
            time.sleep(0.2)  # polling a server that is starting, not waiting for a timer
    raise AssertionError(f"{url} did not answer within {seconds} s")


def test_run_command_starts_the_app_on_a_new_database_and_its_url_answers(tmp_path):
    port = free_port()
    env = {
        **os.environ,
        "DOEFLOW_DATABASE_URL": f"sqlite:///{tmp_path / 'new.sqlite3'}",
        "DOEFLOW_PORT": str(port),
        "DOEFLOW_ENV": "development",
    }
    log = open(tmp_path / "run.log", "w+")
    process = subprocess.Popen(
        ["bash", "scripts/run.sh"], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
    )
    try:
        page = wait_for(f"http://127.0.0.1:{port}/", process).decode()
        health = wait_for(f"http://127.0.0.1:{port}/health", process)
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(30)
    log.seek(0)
    output = log.read()
    assert '<input id="email" name="email"' in page  # the inbox asks who you are first
    assert b'"status":"ok"' in health.replace(b" ", b"")
    assert f"doeflow is running at http://127.0.0.1:{port}/" in output
    assert "demo data loaded: 27 new users" in output
    assert output.count("demo instance ") == 4  # the scenarios, running, for a living inbox
    assert "chief-of-mission@hti.demo" in output and "password: doeflow-demo" in output
    shipped = sorted((ROOT / "workflows" / "bpmn").glob("*.bpmn"))
    for diagram in shipped:
        assert diagram.stem in output
