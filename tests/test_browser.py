"""The app in a real browser: Playwright drives Debian's Chromium against `fitprobe serve`.

Pastes the seed article's Example 3 (read from the shared notes, as users paste it),
probes it, waits for the verdict and the headline chart, downloads the HTML report,
opens the permalink, and saves screenshots under test-artifacts/. Without Chromium it
skips with a message on a developer's machine, and fails in CI (CI=true), where
.ci/run installs it.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import time
import urllib.request
from contextlib import contextmanager
from pathlib import Path

import pytest

from .conftest import require
from .servers import free_port

ROOT = Path(__file__).resolve().parent.parent
ARTIFACTS = ROOT / "test-artifacts"
ARTICLE = ROOT.parent / "shared" / "seed-article.md"
CHROMIUM = os.environ.get("FITPROBE_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [  # no background traffic: this machine's network is closed
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
PROBE_WAIT_MS = 240_000

pytestmark = [pytest.mark.slow, pytest.mark.browser]


def _missing(what: str) -> None:
    require(False, f"{what}: install it to run the browser test (`apt-get install chromium`)")


@contextmanager
def _served(data: Path, log_path: Path, *, port: int | None = None, extra: tuple = ()):
    """The app as `make run` starts it (`fitprobe serve`: `streamlit run app.py` with the
    warm pool started first), on a free port with the history in `data`; yields its URL."""
    port = port or free_port()
    env = {**os.environ, "FITPROBE_DATA_DIR": str(data)}
    log = log_path.open("a")
    server = subprocess.Popen(
        [sys.executable, "-m", "diagnostics", "serve", "--port", str(port),
         "--server.address", "127.0.0.1", "--browser.gatherUsageStats", "false", *extra],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}/"
    deadline = time.monotonic() + 60
    while True:
        try:
            with urllib.request.urlopen(url + "_stcore/health", timeout=2) as reply:
                if reply.status == 200:
                    break
        except OSError:
            pass
        if server.poll() is not None or time.monotonic() > deadline:
            server.kill()
            pytest.fail(f"streamlit did not start: see {log.name}")
        time.sleep(0.3)
    try:
        yield url
    finally:
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
        log.close()


@pytest.fixture(scope="module")
def app_url(tmp_path_factory):
    """The app, with a history of its own, for this module's tests."""
    log = tmp_path_factory.mktemp("log") / "streamlit.log"
    with _served(tmp_path_factory.mktemp("data"), log) as url:
        yield url


@pytest.fixture(scope="module")
def browser():
    if not (Path(CHROMIUM).exists() or shutil.which(CHROMIUM)):
        _missing(f"Chromium not found at {CHROMIUM}")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _missing("the playwright package is not installed (make venv installs it)")
    args = CHROMIUM_ARGS + (["--no-sandbox"] if os.geteuid() == 0 else [])
    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=CHROMIUM, args=args)
        yield chromium
        chromium.close()


def _example_3() -> str:
    if not ARTICLE.exists():
        _missing(f"the shared notes ({ARTICLE.name}) are not beside this checkout")
    return re.findall(r"```python\n(.*?)```", ARTICLE.read_text(encoding="utf-8"), re.S)[2]


def _verdict(page):
    """The verdict banner: the first alert that names a stack."""
    alert = page.get_by_test_id("stAlertContainer").filter(has_text=re.compile("Keras [23]"))
    alert.first.wait_for(timeout=PROBE_WAIT_MS)
    return alert.first


def test_a_fresh_server_opens_a_page_url_through_the_navigation(app_url, browser):
    """The first request a new server gets is a page's own URL (a link into the Rules)."""
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    page.goto(app_url + "rules?rule=generator-swallowed-error")
    page.get_by_text("What it does").first.wait_for(timeout=60_000)
    nav = page.get_by_test_id("stTopNavLink")  # app.py's navigation, not a sidebar of files
    nav.first.wait_for(timeout=10_000)
    assert [t.split()[-1] for t in nav.all_inner_texts()] == [  # icon name, then label
        "Probe", "History", "Gallery", "Playground", "Rules",
    ]  # fmt: skip
    assert page.get_by_test_id("stSidebarNav").count() == 0
    page.close()


def test_paste_probe_download_and_permalink(app_url, browser):
    ARTIFACTS.mkdir(exist_ok=True)
    page = browser.new_page(viewport={"width": 1400, "height": 1000}, accept_downloads=True)
    page.goto(app_url)
    script = page.get_by_label("Training script")
    script.wait_for(timeout=60_000)
    script.fill(_example_3())
    script.press("Control+Enter")  # Streamlit takes the text on Ctrl+Enter (or blur)
    page.get_by_text("Pre-flight").first.wait_for(timeout=30_000)
    page.get_by_role("button", name="Probe", exact=True).click()

    verdict = _verdict(page)
    text = verdict.inner_text()
    assert "on Keras 2 training stops after 1 epoch" in text
    assert "Keras keeps training on that same data every epoch" in text
    headline = page.locator(".js-plotly-plot").filter(has_text="Batches per epoch").first
    headline.wait_for(timeout=30_000)
    assert "Keras 2 stopped after epoch 0" in headline.inner_text()
    headline.scroll_into_view_if_needed()
    page.screenshot(path=str(ARTIFACTS / "probe-example-3.png"), full_page=True)

    with page.expect_download(timeout=60_000) as download:
        page.get_by_role("button", name="Report (HTML, with charts)").click()
    saved = ARTIFACTS / "report-example-3.html"
    download.value.save_as(saved)
    html = saved.read_text(encoding="utf-8")
    assert 'id="chart-batches"' in html and "on Keras 2 training stops after 1 epoch" in html

    link = page.get_by_role("link", name=re.compile(r"\?report=[0-9a-f]+"))
    permalink = link.first.get_attribute("href")
    other = browser.new_page(viewport={"width": 1400, "height": 1000})
    other.goto(permalink)
    assert "on Keras 2 training stops after 1 epoch" in _verdict(other).inner_text()
    other.locator(".js-plotly-plot").first.wait_for(timeout=30_000)
    other.screenshot(path=str(ARTIFACTS / "permalink-example-3.png"), full_page=True)
    other.close()
    page.close()


def test_two_tabs_probe_at_once_and_the_app_stays_responsive(app_url, browser):
    first = browser.new_page(viewport={"width": 1400, "height": 1000})
    second = browser.new_page(viewport={"width": 1400, "height": 1000})
    for page in (first, second):
        page.goto(app_url)
        page.get_by_role("button", name="Probe", exact=True).wait_for(timeout=60_000)
    first.get_by_role("button", name="Probe", exact=True).click()
    second.get_by_role("button", name="Probe", exact=True).click()
    first.get_by_text("Probing with real Keras").first.wait_for(timeout=30_000)
    # while its probe runs, the first tab moves to another page and back
    started = time.monotonic()
    first.get_by_role("link", name="Rules").click()
    first.get_by_role("heading", name="Rules").wait_for(timeout=30_000)
    assert time.monotonic() - started < 30  # responsive, with room for a loaded machine
    first.get_by_role("link", name="Probe").click()
    for page in (first, second):  # both probes finish, each in its own tab
        assert "on Keras 2 training stops after 2 epochs" in _verdict(page).inner_text()
    second.screenshot(path=str(ARTIFACTS / "second-tab.png"))
    first.close()
    second.close()


COLAB_CELLS = [
    "!pip install -q tensorflow\n%matplotlib inline\nfrom google.colab import drive\n"
    "drive.mount('/content/drive')",
    "from tensorflow import keras\n"
    "from tensorflow.keras.preprocessing.image import ImageDataGenerator\n"
    "nb_train_samples = 2000\nbatch_size = 16",
    "train = ImageDataGenerator(rescale=1 / 255).flow_from_directory(\n"
    "    'data/train', target_size=(32, 32), batch_size=batch_size, class_mode='binary')",
    "model = keras.Sequential([keras.Input((32, 32, 3)), keras.layers.Flatten(),\n"
    "                          keras.layers.Dense(1, activation='sigmoid')])\n"
    "model.compile(optimizer='adam', loss='binary_crossentropy')",
    "%%time\nmodel.fit(train, steps_per_epoch=nb_train_samples // batch_size, epochs=3)",
]


def test_a_colab_notebook_upload_says_what_is_missing_and_takes_keras_line(
    app_url, browser, tmp_path
):
    """The issue's new-user walk: upload a notebook whose image folder is not here, see
    that it is missing, paste Keras's "Found ..." line, and see the real batches."""
    import nbformat

    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(c) for c in COLAB_CELLS]
    notebook = tmp_path / "cats_vs_dogs.ipynb"
    nbformat.write(nb, notebook)

    ARTIFACTS.mkdir(exist_ok=True)
    page = browser.new_page(viewport={"width": 1400, "height": 1400})
    page.goto(app_url)
    page.get_by_text("Upload a .py or .ipynb file").click()
    uploader = page.get_by_test_id("stFileUploader").filter(has_text="Jupyter")
    uploader.locator("input[type=file]").set_input_files(str(notebook))
    page.get_by_text("Read as a notebook: 5 code cells").wait_for(timeout=30_000)
    assert page.get_by_text("cell 1, line 1: !pip install -q tensorflow").count() == 1

    page.get_by_role("button", name="Probe", exact=True).click()
    missing = page.get_by_test_id("stAlertContainer").filter(has_text="not there")
    missing.first.wait_for(timeout=PROBE_WAIT_MS)
    assert "the script reads data/train (cell 3, line 1), which is not there" in (
        missing.first.inner_text().replace("`", "")
    )

    standin = page.get_by_label(re.compile(r"data/train.*not attached"))
    standin.fill("Found 200 images belonging to 2 classes.")
    standin.press("Enter")
    page.get_by_role("button", name="Probe", exact=True).click()
    verdict = page.get_by_test_id("stAlertContainer").filter(has_text="stand-in")
    verdict.first.wait_for(timeout=PROBE_WAIT_MS)
    text = verdict.first.inner_text()
    assert "steps_per_epoch=125 but the Sequence holds 13 batches" in text
    assert "data/train was a stand-in of 200 generated images in 2 classes" in text.replace("`", "")
    headline = page.locator(".js-plotly-plot").filter(has_text="Batches per epoch").first
    headline.wait_for(timeout=30_000)
    page.screenshot(path=str(ARTIFACTS / "notebook-stand-in.png"), full_page=True)
    page.close()


def _example_1() -> str:
    if not ARTICLE.exists():
        _missing(f"the shared notes ({ARTICLE.name}) are not beside this checkout")
    return re.findall(r"```python\n(.*?)```", ARTICLE.read_text(encoding="utf-8"), re.S)[0]


def _paste(page, code: str) -> None:
    script = page.get_by_label("Training script")
    script.wait_for(timeout=60_000)
    script.fill(code)
    script.press("Control+Enter")  # Streamlit takes the text on Ctrl+Enter (or blur)


def test_the_support_desk_loop_label_fix_compare_and_find_it_after_a_restart(
    browser, tmp_path
):
    """The issue's walk: paste the seed article's Example 1, label it, apply the fix the
    finding offers, see before and after with the finding fixed, restart the server and
    find both reports in History by the label."""
    ARTIFACTS.mkdir(exist_ok=True)
    data, log = tmp_path / "data", tmp_path / "streamlit.log"
    data.mkdir()
    with _served(data, log) as url:
        page = browser.new_page(viewport={"width": 1400, "height": 1200})
        page.goto(url)
        _paste(page, _example_1())
        label = page.get_by_label("Label (optional)")
        label.fill("TICKET-1001 `__len__`")
        label.press("Enter")
        page.get_by_role("button", name="Probe", exact=True).click()
        assert "covers only 5 of the 10 batches" in _verdict(page).inner_text()

        page.get_by_text("Apply the fix to").first.click()
        diff = page.get_by_test_id("stCode").filter(has_text="@@").first
        diff.wait_for(timeout=30_000)
        assert "steps_per_epoch" in diff.inner_text()
        page.screenshot(path=str(ARTIFACTS / "loop-fix-preview.png"), full_page=True)
        page.get_by_role("button", name="Probe the fixed script").click()

        box = page.locator(".st-key-probe-before-after")  # st.container(key=...)
        box.first.wait_for(timeout=PROBE_WAIT_MS)
        text = box.first.inner_text()
        assert "fixed" in text and "steps-per-epoch-too-small" in text
        assert "1 finding fixed" in text
        box.locator(".js-plotly-plot").first.wait_for(timeout=30_000)
        page.screenshot(path=str(ARTIFACTS / "loop-before-after.png"), full_page=True)
        page.close()

    with _served(data, log) as url:  # a restart later
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        page.goto(url + "history")
        search = page.get_by_role("textbox", name="Search")
        search.wait_for(timeout=60_000)
        search.fill("TICKET-1001")
        search.press("Enter")
        page.get_by_test_id("stDataFrame").first.wait_for(timeout=30_000)
        page.screenshot(path=str(ARTIFACTS / "loop-history-by-label.png"), full_page=True)
        # Both reports, before and after, carry the label.
        page.get_by_text("2 reports match.").wait_for(timeout=30_000)
        page.close()


HANGING = """\
import time
import numpy as np
from tensorflow import keras


def slow_batches():
    while True:
        time.sleep(0.5)  # waits for a file that never comes
        yield np.zeros((4, 2), "float32"), np.zeros((4, 1), "float32")


model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
model.compile(optimizer="sgd", loss="mse")
model.fit(slow_batches(), steps_per_epoch=1000, epochs=2, verbose=0)
"""


def test_cancel_ends_a_hanging_probe_and_says_where_it_was(app_url, browser):
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    page.goto(app_url)
    _paste(page, HANGING)
    page.get_by_role("button", name="Probe", exact=True).click()
    started = page.get_by_text(re.compile(r"Keras [23]: fit\(\) call 0"))
    started.nth(1).wait_for(timeout=120_000)  # fit() is under way on both stacks
    time.sleep(3)  # and the generator waits for its file
    cancel = page.get_by_role("button", name="Cancel")
    cancel.wait_for(timeout=30_000)
    cancel.click()
    started = time.monotonic()
    verdict = page.get_by_test_id("stAlertContainer").filter(has_text="cancel")
    verdict.first.wait_for(timeout=60_000)
    took = time.monotonic() - started
    text = verdict.first.inner_text()
    assert "slow_batches" in text and "line 8" in text, text
    assert took < 20, f"the cancelled probe took {took:.1f} s to end"
    page.screenshot(path=str(ARTIFACTS / "cancelled.png"), full_page=True)
    page.close()


def test_a_refused_upload_says_why_on_the_page(app_url, browser, tmp_path):
    notes = tmp_path / "train_notes.txt"
    notes.write_text("model.fit(x)\n")
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    page.goto(app_url)
    page.get_by_text("Upload a .py or .ipynb file").click()
    uploader = page.get_by_test_id("stFileUploader").filter(has_text="Jupyter")
    uploader.locator("input[type=file]").set_input_files(str(notes))
    refusal = page.get_by_test_id("stAlertContainer").filter(has_text="was refused")
    refusal.first.wait_for(timeout=30_000)
    assert "train_notes.txt was refused: fitprobe takes .py, .ipynb files" in (
        refusal.first.inner_text().replace("`", "")
    )
    # The uploader is empty again: no refused file waits in it.
    assert uploader.get_by_test_id("stFileUploaderFile").count() == 0
    assert page.get_by_role("button", name="Probe", exact=True).is_disabled()
    page.close()


@contextmanager
def _oidc_provider(log_path: Path, subject: str, email: str):
    """A real OpenID Connect provider for tests (oidc-provider-mock), with one user."""
    port = free_port()
    claims = json.dumps({"sub": subject, "email": email, "name": "Ada Support"})
    log = log_path.open("a")
    provider = subprocess.Popen(
        [sys.executable, "-m", "oidc_provider_mock", "--port", str(port),
         "--user-claims", claims],
        stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            with urllib.request.urlopen(url + "/.well-known/openid-configuration", timeout=2):
                break
        except OSError:
            if provider.poll() is not None or time.monotonic() > deadline:
                provider.kill()
                pytest.fail(f"the OIDC provider did not start: see {log.name}")
            time.sleep(0.3)
    try:
        yield url
    finally:
        provider.terminate()
        provider.wait(timeout=10)
        log.close()


def _authorize(page) -> None:
    """The provider's consent form: sign in as the user it knows."""
    page.get_by_placeholder("sub").fill("ada")
    page.get_by_role("button", name="Authorize").click()


def test_with_sign_in_configured_only_signed_in_users_see_reports(browser, tmp_path):
    """History and reports are behind sign-in (Streamlit's st.login, OpenID Connect), and
    a report records who probed it."""
    log = tmp_path / "servers.log"
    port = free_port()
    with _oidc_provider(log, "ada", "ada@support.example") as issuer:
        secrets = tmp_path / "secrets.toml"
        secrets.write_text(
            "[auth]\n"
            f'redirect_uri = "http://127.0.0.1:{port}/oauth2callback"\n'
            'cookie_secret = "a-test-cookie-secret-of-some-length"\n'
            'client_id = "fitprobe"\n'
            'client_secret = "fitprobe-secret"\n'
            f'server_metadata_url = "{issuer}/.well-known/openid-configuration"\n'
        )
        data = tmp_path / "data"
        data.mkdir()
        with _served(data, log, port=port, extra=("--secrets.files", str(secrets))) as url:
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            page.goto(url + "history")
            page.get_by_role("button", name="Sign in").wait_for(timeout=60_000)
            assert page.get_by_text("Every probe is kept in").count() == 0  # nothing shown
            page.get_by_role("button", name="Sign in").click()
            page.wait_for_url(re.compile(re.escape(issuer)), timeout=30_000)
            page.screenshot(path=str(ARTIFACTS / "sign-in-provider.png"), full_page=True)
            _authorize(page)
            page.wait_for_url(re.compile(re.escape(url)), timeout=60_000)
            page.goto(url)
            _paste(page, HANGING.replace("steps_per_epoch=1000", "steps_per_epoch=2")
                   .replace("time.sleep(0.5)", "pass"))  # fmt: skip
            page.get_by_role("button", name="Probe", exact=True).click()
            meta = page.get_by_text("probed by ada@support.example")
            meta.first.wait_for(timeout=PROBE_WAIT_MS)
            page.screenshot(path=str(ARTIFACTS / "signed-in-report.png"), full_page=True)
            page.close()
        from diagnostics.engine.store import DB_NAME, ReportStore

        (row,) = ReportStore(data / DB_NAME).list()
        assert ReportStore(data / DB_NAME).get(row.id)["probed_by"] == "ada@support.example"
