"""`make lab` serves the whole course folder and opens at chapter 00.

The server is started from the command that `make -n lab` prints (so the test follows the
Makefile), with a random token, a free port on the loopback interface and no browser. Its
contents API must find exercises/, solutions/ and microgpt_lib/ (the chapters link to them: a
server rooted in notebooks/ answers 404) and chapter 00, and its start page must be chapter 00.
"""
import os
import pathlib
import secrets
import shlex
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request

import pytest

ROOT = pathlib.Path(__file__).resolve().parent.parent
START_PAGE = "/lab/tree/notebooks/00_welcome.ipynb"
STARTUP_SECONDS = 90  # JupyterLab and its extensions start in a few seconds; a loaded machine is slower


def lab_command():
    """The arguments of `jupyter lab` in the `lab` target, as `make -n lab` prints them."""
    if shutil.which("make") is None:
        pytest.skip("make is not installed")
    result = subprocess.run(["make", "-s", "-n", "lab"], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, f"make -n lab failed: {result.stdout}{result.stderr}"
    lines = [line for line in result.stdout.splitlines() if " lab" in line and "jupyter" in line]
    assert len(lines) == 1, f"expected one `jupyter lab` line in `make -n lab`, got:\n{result.stdout}"
    words = shlex.split(lines[0])
    assert words[0].endswith(("jupyter", "jupyter.exe")) and words[1] == "lab", f"unexpected command: {lines[0]}"
    return words[2:]


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None  # let the 302 surface as an HTTPError, to read its Location


def get(url):
    """(status, Location header) of a GET, redirects not followed; (None, reason) if nothing answers."""
    opener = urllib.request.build_opener(NoRedirect)
    try:
        with opener.open(url, timeout=10) as response:
            return response.status, response.headers.get("Location")
    except urllib.error.HTTPError as err:
        return err.code, err.headers.get("Location")
    except (urllib.error.URLError, OSError) as err:
        return None, str(err)


def test_make_lab_serves_the_course_folder(tmp_path):
    args = lab_command()
    port, token = free_port(), secrets.token_hex(16)
    command = [
        sys.executable, "-m", "jupyter", "lab", *args,
        "--no-browser", "--ServerApp.ip=127.0.0.1", f"--ServerApp.port={port}", "--ServerApp.port_retries=0",
        f"--IdentityProvider.token={token}",
    ]
    if os.name != "nt" and os.geteuid() == 0 and "--allow-root" not in command:
        command.append("--allow-root")
    env = dict(
        os.environ,
        JUPYTER_CONFIG_DIR=str(tmp_path / "config"),  # no user config can change what is served
        JUPYTER_RUNTIME_DIR=str(tmp_path / "runtime"),
    )
    log_path = tmp_path / "lab.log"
    base = f"http://127.0.0.1:{port}"
    with open(log_path, "w") as log:
        server = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
        try:
            deadline = time.monotonic() + STARTUP_SECONDS
            status = None
            while time.monotonic() < deadline and server.poll() is None:
                status, _ = get(f"{base}/api/status?token={token}")
                if status == 200:
                    break
                time.sleep(0.5)
            assert status == 200, (
                f"JupyterLab did not answer on port {port} within {STARTUP_SECONDS} s "
                f"(exit code {server.poll()}). Its log:\n{log_path.read_text()}"
            )
            for path in ["exercises", "solutions", "microgpt_lib", "notebooks/00_welcome.ipynb"]:
                status, _ = get(f"{base}/api/contents/{path}?content=0&token={token}")
                assert status == 200, (
                    f"the server of `make lab` answers {status} for {path}: it must serve the course folder "
                    f"(the repository root), not only notebooks/. Command: {shlex.join(command)}"
                )
            status, location = get(f"{base}/?token={token}")
            assert status in (301, 302) and location and location.split("?")[0].endswith(START_PAGE), (
                f"the start page of `make lab` should be chapter 00 ({START_PAGE}); / answers {status} -> {location}"
            )
        finally:
            server.terminate()
            try:
                server.wait(timeout=20)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait(timeout=10)
