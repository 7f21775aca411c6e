"""The app, driven through Streamlit's AppTest from app.py: every page renders without an
exception with its key widgets, and real probes run end to end (verdict and chart data)."""

from __future__ import annotations

import json
import re
import time
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from diagnostics.engine.attach import StandIn
from diagnostics.engine.jobs import JOBS
from diagnostics.engine.store import default_store
from sample_generators import samples

APP = str(Path(__file__).parent.parent / "app.py")
PROBE_WAIT_S = 300


def _app() -> AppTest:
    at = AppTest.from_file(APP, default_timeout=60).run()
    assert not at.exception
    return at


def _page(name: str, **query) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=60)
    at.query_params.update(query)
    at.run()
    at.switch_page(f"pages/{name}.py").run()
    assert not at.exception, at.exception
    return at


def _wait(at: AppTest, *job_ids: str) -> AppTest:
    """Let the probes finish (they run on threads of their own), then rerun the page."""
    deadline = time.monotonic() + PROBE_WAIT_S
    while any(JOBS.get(j).state in ("queued", "running") for j in job_ids):
        assert time.monotonic() < deadline, "the probe did not finish"
        time.sleep(0.5)
    at.run()
    assert not at.exception, at.exception
    return at


def plain(markdown: str) -> str:
    """The text a user reads, from the Markdown the page wrote (escapes removed)."""
    return re.sub(r"\\(.)", r"\1", markdown)


def chart_data(at: AppTest, index: int = 0) -> dict[str, list]:
    """{trace name: y values} of the page's index-th plotly chart."""
    spec = json.loads(at.get("plotly_chart")[index].proto.spec)
    return {trace.get("name"): trace.get("y") for trace in spec["data"]}


def _saved_report() -> dict:
    """A real report in the history, probed once for the tests that need one."""
    store = default_store()
    found = store.list(search="history_fixture.py")
    if found:
        return store.get(found[0].id)
    from diagnostics import probe_code

    report = probe_code(
        (Path(__file__).parent / "situations" / "s04_finite_generator_steps.py").read_text(),
        name="history_fixture.py",
    )
    store.save(report)
    return report


# --- the probe page (the landing page) ---------------------------------------------------
def test_probe_page_starts_with_the_embedded_default_script():
    at = _app()
    assert "model.fit(" in at.text_area(key="script").value
    assert at.radio(key="input_mode").value == "paste"
    assert at.selectbox(key="keras").value == "both"
    assert at.number_input(key="epochs").value == 5
    assert at.button(key="probe").label == "Probe"
    assert at.info[-1].value.startswith("Press **Probe**")
    # pre-flight reads the default script before anything runs
    assert any("finite-generator-exhausted" in m.value for m in at.markdown)


def test_device_choice_says_when_there_is_no_gpu():
    from diagnostics.engine.probe import gpu_present

    at = _app()
    device = at.radio(key="device")
    assert device.value == "cpu"
    assert device.disabled == (not gpu_present())
    if not gpu_present():
        assert any("none on this server" in c.value for c in at.caption)


def test_an_empty_script_gets_a_message_not_a_probe():
    at = _app()
    at.text_area(key="script").set_value("   ").run()
    assert not at.exception
    assert at.info[0].value == "Paste a training script to probe."
    assert at.button(key="probe").disabled
    assert not any(i.value.startswith("Press **Probe**") for i in at.info)
    assert "probe_job" not in at.session_state


def test_a_syntax_error_is_reported_before_probing():
    at = _app()
    at.text_area(key="script").set_value("import numpy as np\ndef broken(:\n    pass\n")
    at.run()
    assert plain(at.error[0].value) == (
        "pasted_script.py has a syntax error at line 2: invalid syntax"
    )
    # Probe is off, says why, and no "Press Probe" box sits beside the error.
    assert at.button(key="probe").disabled
    assert "the input cannot be read" in at.caption[-1].value
    assert not any(i.value.startswith("Press **Probe**") for i in at.info)
    assert "probe_job" not in at.session_state


def test_an_uploaded_module_offers_its_data_sources_and_their_arguments():
    at = _app()
    at.radio(key="input_mode").set_value("upload").run()
    code = (Path(__file__).parent / "fixtures" / "data_sources.py").read_bytes()
    at.file_uploader(key="upload-0").set_value(("data_sources.py", code, "text/x-python")).run()
    assert not at.exception
    run_as = at.radio(key="run_as")
    assert (run_as.value, len(run_as.options)) == ("module", 1)  # it never calls fit()
    sources = at.selectbox(key="source")
    names = ["endless_batches", "one_pass", "RowBatches", "make_dataset"]
    assert [o.split(" ")[0] for o in sources.options] == names  # in file order
    sources.set_value("RowBatches").run()
    assert {t.label for t in at.text_input if t.key.startswith("arg-")} == {"batch_size", "length"}
    assert at.text_input(key="arg-RowBatches-length").value == "6"


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("weights.py", bytes(range(256)), "weights.py is a binary file, not Python source"),
        ("latin.py", "x = 'caf\xe9'\n".encode("latin-1"), "latin.py is not UTF-8 text"),
        ("empty.py", b"\n\n", "empty.py is empty"),
        ("helpers.py", b"def add(a, b):\n    return a + b\n", "neither calls fit() nor"),
    ],
)
def test_an_upload_that_cannot_be_probed_gets_a_clear_message(name, content, message):
    at = _app()
    at.radio(key="input_mode").set_value("upload").run()
    at.file_uploader(key="upload-0").set_value((name, content, "text/x-python")).run()
    assert not at.exception
    assert message in plain(at.error[0].value)
    assert at.button(key="probe").disabled


def test_an_oversized_upload_is_refused_with_its_size():
    at = _app()
    at.radio(key="input_mode").set_value("upload").run()
    big = b"x = 1\n" * 600_000  # 3.6 MB of Python
    at.file_uploader(key="upload-0").set_value(("huge.py", big, "text/x-python")).run()
    assert not at.exception
    assert plain(at.error[0].value) == (
        "`huge.py` was refused: it is 3.6 MB; a .py file is at most 2 MB."
    )
    # The uploader was emptied (a new one), the reason stays, Probe is off.
    assert at.file_uploader(key="upload-1").value is None
    assert at.button(key="probe").disabled


def test_pasted_code_without_fit_says_so_before_probing():
    at = _app()
    at.text_area(key="script").set_value("def batches():\n    yield 1, 2\n").run()
    assert "never calls fit()" in plain(at.error[0].value)
    assert "upload it as a file and probe it as a module" in plain(at.error[0].value)


def test_the_pasted_script_survives_a_trip_to_another_page():
    at = _app()
    at.text_area(key="script").set_value("# mine\nmodel.fit(x)\n").run()
    at.radio(key="input_mode").set_value("sample").run()
    at.switch_page("pages/rules.py").run()
    at.switch_page("pages/probe.py").run()
    assert at.radio(key="input_mode").value == "sample"
    at.radio(key="input_mode").set_value("paste").run()
    assert at.text_area(key="script").value == "# mine\nmodel.fit(x)\n"


def test_the_uploader_refuses_other_types_and_sizes_with_a_visible_reason():
    at = _app()
    at.radio(key="input_mode").set_value("upload").run()
    uploader = at.file_uploader(key="upload-0")
    # Anything up to the server's limit reaches the page, which says why it refuses it.
    assert uploader.allowed_type == [] and uploader.proto.max_upload_size_mb == 200
    uploader.set_value(("notes.txt", b"model.fit(x)\n", "text/plain")).run()
    assert plain(at.error[0].value) == (
        "`notes.txt` was refused: fitprobe takes .py, .ipynb files."
    )
    big = _notebook("# padding\n" * 2_700_000)  # a 27 MB notebook: over its 25 MB
    at.file_uploader(key="upload-1").set_value(("big.ipynb", big, "x")).run()
    assert plain(at.error[0].value).startswith("`big.ipynb` was refused: it is ")
    assert "a .ipynb file is at most 25 MB" in plain(at.error[0].value)
    # Only the latest reason shows; the uploader is empty again.
    assert len(at.error) == 1 and at.file_uploader(key="upload-2").value is None
    good = (Path(__file__).parent / "fixtures" / "data_sources.py").read_bytes()
    at.file_uploader(key="upload-2").set_value(("data_sources.py", good, "x")).run()
    assert not at.error


def _notebook(*cells: str) -> bytes:
    import nbformat

    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(c) for c in cells]
    return nbformat.writes(nb).encode()


FOLDER_NOTEBOOK = _notebook(
    "!pip install -q wandb\nimport wandb\nfrom tensorflow import keras\n"
    "from tensorflow.keras.preprocessing.image import ImageDataGenerator",
    "train = ImageDataGenerator().flow_from_directory('data/train', batch_size=8)\n"
    "x = __import__('numpy').load('arrays/x.npy')",
    "model = keras.Sequential([keras.Input((256, 256, 3)), keras.layers.Flatten(),\n"
    "                          keras.layers.Dense(1)])\nmodel.compile('sgd', 'mse')\n"
    "model.fit(train, epochs=1)",
)


def test_an_uploaded_notebook_lists_what_it_reads_and_lacks_and_takes_stand_ins():
    at = _app()
    at.radio(key="input_mode").set_value("upload").run()
    at.file_uploader(key="upload-0").set_value(("colab.ipynb", FOLDER_NOTEBOOK, "x")).run()
    assert not at.exception
    info = plain(at.info[0].value)
    assert info.startswith("Read as a notebook: 3 code cells run in order as one script.")
    assert "cell 1, line 1: `!pip install -q wandb`" in info
    markdown = [plain(m.value) for m in at.markdown]
    assert any("`arrays/x.npy` (cell 2, line 2" in m and "not attached" in m for m in markdown)
    assert at.checkbox(key="data-stub").value is False  # the user's choice, offered:
    assert any("`wandb` (an experiment tracker)" in c.value for c in at.caption)
    at.checkbox(key="data-stub").check().run()
    standin = at.text_input(key="data-standin-data/train")
    standin.set_value("Found 2000 images").run()  # not Keras's whole line: refused, visibly
    assert "Stand-in for `data/train`: paste Keras's line" in plain(at.error[0].value)
    assert at.button(key="probe").disabled
    standin.set_value("Found 2000 images belonging to 2 classes.").run()
    assert not at.error
    at.button(key="probe").click().run()  # the job gets the stand-in and the stub
    job = JOBS.get(at.session_state["probe_job"])
    assert job.options.standin_images == (StandIn("data/train", 2000, 2),)
    assert job.options.stub_missing is True
    at.text_input(key="data-standin-other-path").set_value("/content/drive/x").run()
    at.text_input(key="data-standin-other-counts").set_value("10:2").run()
    assert "the path must be relative" in plain(at.error[0].value)
    _wait(at, job.id)  # the probe submitted above, not left running for the next test


def test_an_attached_archive_covers_the_paths_it_holds():
    import io
    import zipfile

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as z:
        z.writestr("arrays/x.npy", b"not really")
    at = _app()
    at.radio(key="input_mode").set_value("upload").run()
    at.file_uploader(key="upload-0").set_value(("colab.ipynb", FOLDER_NOTEBOOK, "x")).run()
    at.file_uploader(key="data-archive-0").set_value(("data.zip", buffer.getvalue(), "x")).run()
    assert not at.exception
    markdown = [plain(m.value) for m in at.markdown]
    assert any(m.startswith("✅ `arrays/x.npy`") for m in markdown)
    at.file_uploader(key="data-archive-0").set_value(("data.zip", b"not a zip", "x")).run()
    assert "`data.zip` cannot be read as a .zip, .tar.gz, .tgz or .tar archive" in plain(
        at.error[0].value
    )
    at.file_uploader(key="data-archive-0").set_value(("data.rar", b"Rar!", "x")).run()
    assert plain(at.error[0].value).startswith("`data.rar` was refused: fitprobe takes .zip,")
    assert at.file_uploader(key="data-archive-1").value is None


def test_a_gallery_sample_can_be_picked_on_the_probe_page():
    at = _app()
    at.radio(key="input_mode").set_value("sample").run()
    at.selectbox(key="sample").set_value("generator_swallowed_error").run()
    assert not at.exception
    assert at.radio(key="variant").options == ["broken", "fixed"]
    assert any("try/except" in c.value for c in at.caption)


@pytest.mark.slow
def test_probing_the_default_script_end_to_end():
    at = _app()
    at.button(key="probe").click().run()
    assert not at.exception
    job_id = at.session_state["probe_job"]
    at = _wait(at, job_id)
    verdict = plain(at.error[0].value)
    assert "on Keras 2 training stops after 2 epochs" in verdict
    assert any("finite-generator-exhausted" in m.value for m in at.markdown)
    headline = chart_data(at)
    assert headline["Keras 3 trained"] == [10, 0, 2, 2, 2]
    assert headline["Keras 2 trained"] == [10, 0]
    assert headline["expected"] == [10] * 5
    report = at.session_state["probe_report"]
    assert default_store().get(report["id"])["verdict"] == verdict  # saved to history

    # its permalink opens the same report, from the store, in a fresh session
    saved = _page("probe", report=report["id"])
    assert plain(saved.error[0].value) == verdict
    assert chart_data(saved)["Keras 2 trained"] == [10, 0]


def test_an_unknown_permalink_says_so():
    at = AppTest.from_file(APP, default_timeout=60)
    at.query_params["report"] = "0123456789abcdef"
    at.run()
    assert not at.exception
    assert "no saved report `0123456789abcdef`" in at.error[0].value


# --- history --------------------------------------------------------------------------------
def _select(at: AppTest, *rows: int) -> AppTest:
    """Select rows of the history list (AppTest sets a dataframe selection as state)."""
    table = at.dataframe[0]
    at.session_state[table.key] = {"selection": {"rows": list(rows), "columns": [], "cells": []}}
    at.run()
    assert not at.exception, at.exception
    return at


def _history_ids(at: AppTest) -> list[str]:
    return at.dataframe[0].value["id"].tolist() if at.dataframe else []


@pytest.mark.slow
def test_history_lists_searches_and_filters_saved_reports():
    report = _saved_report()
    at = _page("history")
    table = at.dataframe[0].value
    assert report["id"] in table["id"].tolist()
    row = table[table["id"] == report["id"]].iloc[0]
    assert (row["case"], row["file"], row["worst"]) == ("history_fixture.py",) * 2 + ("error",)
    at.text_input(key="search").set_value("finite-generator-exhausted").run()
    assert report["id"] in _history_ids(at)
    at.text_input(key="search").set_value("no such words anywhere").run()
    assert at.info[0].value == "No saved probe matches."
    at.text_input(key="search").set_value("").run()
    at.multiselect(key="worst").set_value(["none"]).run()
    assert report["id"] not in _history_ids(at)


@pytest.mark.slow
@pytest.mark.slow
def test_history_imports_a_report_from_a_customers_machine_and_refuses_what_is_not_one():
    import copy

    local = copy.deepcopy(_saved_report())  # as `fitprobe probe --local --json` makes it
    local["environment"].update(local=True, platform="Linux-customer", python="3.11.9")
    local["input"]["name"] = "customer_train.py"
    at = _page("history")
    at.file_uploader(key="import").set_value(("nope.json", b"[1, 2]", "application/json")).run()
    assert "nope.json is not a fitprobe report" in plain(at.error[0].value)
    data = json.dumps(local).encode()
    at.file_uploader(key="import").set_value(("customer.json", data, "application/json")).run()
    assert not at.exception
    assert any(s.value.startswith("Imported as report") for s in at.success)
    imported = [r for r in default_store().list(search="customer_train") if r.origin == "import"]
    assert len(imported) == 1 and imported[0].id != local["id"]

    at = _page("probe", report=imported[0].id)  # shown like any other, marked as theirs
    shown = [plain(i.value) for i in at.info]
    assert any(
        t.startswith("Probed on the customer's machine (local mode): Python 3.11.9") for t in shown
    )
    assert any("imported from `customer.json`" in t for t in shown)


def test_history_opens_compares_and_deletes_a_report():
    import copy

    report = _saved_report()
    after = copy.deepcopy(report)  # a second report, as after a fix
    after["id"], after["input"]["name"] = "feed000000000001", "history_fixture_fixed.py"
    default_store().save(after)
    at = _page("history")
    at.text_input(key="search").set_value("history_fixture").run()
    ids = _history_ids(at)
    first, second = ids.index(report["id"]), ids.index(after["id"])

    at = _select(at, first)  # one row: the whole report, in the same views as a probe
    assert plain(at.error[0].value) == report["verdict"]
    assert chart_data(at)["Keras 3 trained"] == [10, 0, 2, 2, 2]
    assert [b.label for b in at.get("download_button")] == [
        "Report (JSON)",
        "Report (Markdown)",
        "Report (HTML, with charts)",
    ]
    assert any(f"?report={report['id']}" in m.value for m in at.markdown)

    at = _select(at, first, second)  # two rows: before and after, one chart of both
    assert len(at.get("plotly_chart")) == 1 and len(at.error) == 2

    at = _select(at, second)
    at.button(key="delete").click().run()
    assert default_store().get(after["id"]) is None
    assert after["id"] not in _history_ids(at)
    assert not at.get("plotly_chart")  # the list changed: no stale selection opens another


def test_history_page_renders_its_search_and_filter():
    at = _page("history")
    assert at.text_input(key="search").placeholder.startswith("a label")
    assert at.multiselect(key="worst").options[:3] == ["error", "warning", "info"]


@pytest.mark.slow
@pytest.mark.parametrize(
    ("fixture", "banner"),
    [
        ("healthy_pipelines.py", "success"),  # five fit() calls
        ("direct_keras_import.py", "success"),  # Keras 2 not applicable
        ("raises_before_fit.py", "error"),  # the script fails before fit()
        ("no_fit.py", "error"),  # cannot be probed at all
    ],
)
def test_unusual_reports_render_in_the_report_view(fixture, banner):
    from .conftest import FIXTURES, probed

    report = probed(str(FIXTURES / fixture))
    default_store().save(report)
    at = _page("probe", report=report["id"])
    assert plain(getattr(at, banner)[0].value) == report["verdict"]
    assert len(at.get("plotly_chart")) == 4  # every chart draws, or says why it cannot


# --- gallery --------------------------------------------------------------------------------
def test_gallery_shows_every_sample_broken_next_to_fixed():
    at = _page("gallery")
    assert len(at.selectbox(key="sample").options) == len(samples())
    at.selectbox(key="sample").set_value("generator_swallowed_error").run()
    assert not at.exception
    code = [c.value for c in at.code]
    assert any("def quiet_batches" in c and "def counting_batches" not in c for c in code)
    assert any("def counting_batches" in c and "def quiet_batches" not in c for c in code)
    assert at.button(key="probe").label == "Probe both live"


@pytest.mark.slow
def test_gallery_probes_both_variants_live():
    at = _page("gallery", sample="sequence_len_too_small")
    at.button(key="probe").click().run()
    jobs = at.session_state["gallery_jobs"]["sequence_len_too_small"]
    at = _wait(at, *jobs.values())
    broken, fixed = (chart_data(at, i) for i in (0, 1))
    # broken: __len__ says 10 batches of the 11 the data holds; fixed: all 11, every epoch
    for stack in ("Keras 3", "Keras 2"):
        assert broken[f"{stack} trained"] == [10, 10, 10]
        assert fixed[f"{stack} trained"] == [11, 11, 11]
    assert broken["expected"] == [10, 10, 10]
    assert "training never sees rows 100-104 (5 of 105 samples)" in plain(at.error[0].value)
    assert plain(at.success[0].value).startswith("No problem found")
    # a new session shows the observed charts from the history, without probing again
    again = _page("gallery", sample="sequence_len_too_small")
    assert chart_data(again, 0) == broken and chart_data(again, 1) == fixed


# --- playground -------------------------------------------------------------------------------
def test_playground_predicts_both_stacks():
    at = _page("playground")
    assert at.selectbox(key="kind").value
    for key in ("samples", "batch_size", "epochs", "steps_per_epoch"):
        assert at.slider(key=key) is not None
    at.selectbox(key="kind").set_value("finite-generator").run()
    at.slider(key="samples").set_value(100).run()
    at.slider(key="batch_size").set_value(10).run()
    at.slider(key="steps_per_epoch").set_value(10).run()
    at.slider(key="epochs").set_value(5).run()
    assert not at.exception
    predicted = chart_data(at)
    assert predicted["Keras 3 predicted"] == [10, 0, 2, 2, 2]
    assert predicted["Keras 2 predicted"] == [10, 0]


@pytest.mark.slow
def test_playground_overlays_the_real_probe_on_the_prediction():
    at = _page("playground")
    at.selectbox(key="kind").set_value("dataset").run()
    at.slider(key="steps_per_epoch").set_value(4).run()
    at.button(key="run_probe").click().run()
    (job_id,) = at.session_state["playground_jobs"].values()
    at = _wait(at, job_id)
    data = chart_data(at)
    assert data["Keras 3 observed"] == data["Keras 3 predicted"] == [4, 4, 2, 4, 4]
    assert data["Keras 2 observed"] == data["Keras 2 predicted"] == [4, 4, 2]
    matched = [s.value for s in at.success if s.value.startswith("Reality matched")]
    assert len(matched) == 2, [s.value for s in at.success]


# --- rules ------------------------------------------------------------------------------------
def test_rules_page_renders_the_catalog_from_the_docstrings():
    from diagnostics.rules import catalog

    at = _page("rules")
    assert len(at.expander) == len(catalog())
    assert any("What it does" in m.value for m in at.markdown)


def test_a_finding_links_to_its_rule_which_comes_first_and_open():
    at = _page("rules", rule="generator-swallowed-error")
    first = at.expander[0]
    assert "generator-swallowed-error" in first.label
    assert first.proto.expanded
    at = _page("rules", rule="no-such-rule")
    assert "There is no rule `no-such-rule`" in at.warning[0].value


@pytest.mark.slow
def test_probing_an_uploaded_module_builds_a_stand_in_model():
    at = _app()
    at.radio(key="input_mode").set_value("upload").run()
    code = (Path(__file__).parent / "fixtures" / "data_sources.py").read_bytes()
    at.file_uploader(key="upload-0").set_value(("data_sources.py", code, "text/x-python")).run()
    at.selectbox(key="source").set_value("RowBatches").run()
    at.text_input(key="arg-RowBatches-length").set_value("3").run()
    at.selectbox(key="keras").set_value("3").run()
    at.button(key="probe").click().run()
    at = _wait(at, at.session_state["probe_job"])
    report = at.session_state["probe_report"]
    assert report["input"]["mode"] == "module"
    assert report["input"]["args"] == {"length": 3}
    assert chart_data(at)["Keras 3 trained"] == [3] * 5
    assert any(f["code"] == "sequence-len-too-small" for f in report["findings"])


# --- the support-desk loop --------------------------------------------------------------
ENDLESS_TICKET = """\
import numpy as np
from tensorflow import keras

rows = np.random.default_rng(3).normal(size=(60, 4)).astype("float32")


def endless(x, batch_size):
    while True:
        for start in range(0, len(x), batch_size):
            yield x[start:start + batch_size], x[start:start + batch_size, :1]


model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(1)])
model.compile(optimizer="sgd", loss="mse")
model.fit(endless(rows, 6), steps_per_epoch=5, epochs=3, verbose=0)
"""


@pytest.mark.slow
def test_a_saved_report_is_edited_probed_again_and_shown_before_and_after():
    first = JOBS.submit(
        code=ENDLESS_TICKET, name="ticket.py", keras="3", epochs=3,
        label="TICKET-9 <b>__len__</b>", note="customer: epoch 2 stops",
    )  # fmt: skip
    at = _wait(_app(), first)
    before = JOBS.get(first).report
    at = _page("history")
    at.text_input(key="search").set_value("TICKET-9").run()
    assert _history_ids(at) == [before["id"]]  # found by its label
    at = _select(at, 0)
    assert any(plain(m.value).startswith("**TICKET-9 <b>__len__</b>**") for m in at.markdown)
    at.button(key=f"history-{before['id']}-edit").click().run()
    assert not at.exception, at.exception
    at.switch_page("pages/probe.py")  # where st.switch_page went; AppTest reruns its own page
    editor = at.text_area(key="edit_text")
    assert editor.value == ENDLESS_TICKET  # the probed source, as it was kept
    assert at.text_input(key="label").value == "TICKET-9 <b>__len__</b>"
    editor.set_value(ENDLESS_TICKET.replace("steps_per_epoch=5", "steps_per_epoch=10")).run()
    at.button(key="probe").click().run()
    at = _wait(at, at.session_state["probe_job"])
    after = at.session_state["probe_report"]
    assert after["before"] == before["id"] and after["label"] == before["label"]
    shown = [plain(m.value) for m in at.markdown]
    assert any(m.startswith("**Before and after**") for m in shown)
    assert any("**fixed**: `steps-per-epoch-too-small`" in m for m in shown)
    assert any(m.startswith("1 finding fixed") for m in shown)
    compared = json.loads(at.get("plotly_chart")[0].proto.spec)
    bars = {(t["name"], t.get("xaxis")): t["y"] for t in compared["data"] if t["type"] == "bar"}
    assert bars[("before", "x")] == [5, 5, 5] and bars[("after", "x")] == [10, 10, 10], (
        after["verdict"]
    )
    # The editor stays open on the new code; the next probe would come after this one.
    assert at.session_state["edit"]["before"] == after["id"]
    at.button(key="stop_edit").click().run()
    assert at.radio(key="input_mode").value == "paste"


@pytest.mark.slow
def test_history_compares_the_older_on_the_left_and_refuses_three():
    import copy

    report = _saved_report()
    later = copy.deepcopy(report)
    later["id"], later["created"] = "feed0000000000c2", "2999-01-01T00:00:00+00:00"
    later["findings"] = []
    default_store().save(later)
    third = copy.deepcopy(report)
    third["id"] = "feed0000000000c3"
    default_store().save(third)
    at = _page("history")
    at.text_input(key="search").set_value("history_fixture").run()
    ids = _history_ids(at)
    # Selected newest first, shown oldest first.
    at = _select(at, ids.index(later["id"]), ids.index(report["id"]))
    heading = at.subheader[0].value
    assert heading == f"Compare: `{report['id']}` (before) → `{later['id']}` (after)"
    fixed = [plain(m.value) for m in at.markdown if "**fixed**" in m.value]
    assert len(fixed) == len({f["code"] for f in report["findings"]})
    at = _select(at, *(ids.index(i) for i in (later["id"], report["id"], third["id"])))
    assert at.warning[0].value.startswith("3 reports are selected: select one to open it")
    for report_id in (later["id"], third["id"]):
        default_store().delete(report_id)


@pytest.mark.slow
def test_a_finding_offers_its_fix_and_the_fixed_script_is_probed_as_the_after():
    at = _app()
    at.text_area(key="script").set_value(ENDLESS_TICKET).run()
    at.selectbox(key="keras").set_value("3").run()
    at.button(key="probe").click().run()
    at = _wait(at, at.session_state["probe_job"])
    before = at.session_state["probe_report"]
    (index,) = [
        i for i, f in enumerate(before["findings"]) if f["code"] == "steps-per-epoch-too-small"
    ]
    preview = [e for e in at.expander if e.label.startswith("Apply the fix to")]
    assert len(preview) == 1
    (diff,) = [c.value for c in at.code if c.language == "diff"]
    assert "+model.fit(endless(rows, 6), steps_per_epoch=math.ceil(len(rows) / 6)" in diff
    at.button(key=f"probe-fix-{index}-probe").click().run()
    assert not at.exception, at.exception
    at.switch_page("pages/probe.py")
    at = _wait(at, at.session_state["probe_job"])
    after = at.session_state["probe_report"]
    assert after["before"] == before["id"]
    assert "steps-per-epoch-too-small" not in {f["code"] for f in after["findings"]}
    shown = [plain(m.value) for m in at.markdown]
    assert any("**fixed**: `steps-per-epoch-too-small`" in m for m in shown)
    assert at.text_area(key="edit_text").value.startswith("import math\n")
