"""`make run` is how people try the product: it must show the product, not Django's debug pages.

This starts the real `make run` (migrate, demo data, collectstatic, the worker and the web server) on a
free port with its own folder, asks it for a few pages as a browser would, and stops it.
"""

import os
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from django.conf import settings

pytestmark = pytest.mark.integration

REPO = Path(settings.BASE_DIR)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _get(url: str, **headers: str) -> tuple[int, str]:
    request = urllib.request.Request(url, headers=headers)  # noqa: S310 (a local http:// URL we built)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    port = _free_port()
    var = tmp_path_factory.mktemp("make-run-var")
    # Only what a person's shell would have: no test database, no CI Redis, no settings of ours.
    env = {key: os.environ[key] for key in ("PATH", "HOME", "LANG") if key in os.environ}
    process = subprocess.Popen(  # noqa: S603
        ["make", "--no-print-directory", "run", f"PORT={port}", f"VAR={var}"],  # noqa: S607
        cwd=REPO,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 180
        while True:
            try:
                _get(f"{url}/healthz")
                break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    output = process.stdout.read().decode() if process.poll() is not None else "(still running)"
                    pytest.fail(f"`make run` did not start serving:\n{output}")
                time.sleep(0.5)
        yield url
    finally:
        # The recipe and everything it started share one process group, started above.
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def test_a_wrong_link_gets_the_products_page_not_found_in_the_readers_language(served):
    status, html = _get(f"{served}/alliance/barrio-readers/", **{"Accept-Language": "es"})

    assert status == 404
    assert '<html lang="es">' in html
    assert "Página no encontrada" in html
    assert 'href="/">Volver al inicio</a>' in html
    assert "URLconf" not in html  # Django's technical 404 lists every URL pattern


def test_the_pages_stylesheets_are_served(served):
    status, html = _get(f"{served}/")
    assert status == 200

    stylesheets = [part.split('"')[0] for part in html.split('rel="stylesheet" href="')[1:]]
    assert len(stylesheets) == 2
    for path in stylesheets:
        status, css = _get(f"{served}{path}")
        assert status == 200, path
        assert "{" in css


def test_the_demo_operator_can_open_the_site_over_plain_http(served):
    # Production cookies are HTTPS-only and production redirects to HTTPS; neither may happen here.
    request = urllib.request.Request(f"{served}/accounts/login/")  # noqa: S310
    with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
        cookies = response.headers.get_all("Set-Cookie") or []
        assert response.url == f"{served}/accounts/login/"
    assert cookies
    assert not [cookie for cookie in cookies if "secure" in cookie.lower()]
