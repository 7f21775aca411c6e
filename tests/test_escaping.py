"""What a user reads: as written, inert, and only what matters.

Names and messages full of Markdown and HTML (`__len__ * $ : \\ ` </script>...`) go
through the page helpers (`pages/_view`), the Markdown export and the HTML export, and
must come out as written (the text markdown-it renders, or the HTML's text, equals the
input) and inert (no element they did not ask for, no code span they did not open). The
report they ride in is a real probe of a script whose generator raises with such a
message, under such a name; the same report's stderr and traceback check the output
panel: TensorFlow's and CUDA's logging hidden, the traceback starting at the user's
file under its own name. Severity words: a finding whose severity is not its rule's
default says why, and the table that says why matches what the rules write.
"""

from __future__ import annotations

import ast
import json
import re
from html.parser import HTMLParser
from pathlib import Path

import pytest
from markdown_it import MarkdownIt
from streamlit.testing.v1 import AppTest

from diagnostics import (
    catalog,
    code_span,
    plain_text,
    probe_code,
    quiet_output,
    render_html,
    render_markdown,
    severity_note,
    severity_words,
    to_json,
)
from diagnostics.engine.store import default_store
from diagnostics.render.markdown import fenced
from diagnostics.render.text import READ_FROM_CODE, SEVERITY_CASES, STATIC_AT_DEFAULT
from pages import _view as view
from sample_generators import samples

ROOT = Path(__file__).resolve().parent.parent
APP = str(ROOT / "app.py")
MD = MarkdownIt("commonmark").enable(["table", "strikethrough"])  # GitHub's extensions

NASTY = "__len__ * $ : \\ ` </script><img src=x onerror=alert(1)>"
NAME = "train `__len__` * $ : \\ ` </script><img src=x onerror=alert(1)>.py"
MESSAGE = f"bad row: {NASTY}"
LABEL = f"ticket #12 [urgent] {NASTY}"
# A verdict is fitprobe's sentence: `__len__` in backticks is code, the lone one is text.
VERDICT = "Keras 3 stopped: `__len__` * $ : \\ ` </script><img src=x onerror=alert(1)> & more"
VERDICT_READS = "Keras 3 stopped: __len__ * $ : \\ ` </script><img src=x onerror=alert(1)> & more"

SCRIPT = f"""
import sys

import numpy as np
from tensorflow import keras

print("the script's own line on stderr", file=sys.stderr)
print("    and an indented one", file=sys.stderr)


def batches():
    for _ in range(2):
        yield np.zeros((4, 2), "float32"), np.zeros((4, 1), "float32")
    raise ValueError({MESSAGE!r})


model = keras.Sequential([keras.Input(shape=(2,)), keras.layers.Dense(1)])
model.compile(optimizer="sgd", loss="mse")
model.fit(batches(), steps_per_epoch=4, epochs=1, verbose=0)
"""
# What TensorFlow and CUDA write on every start here, none of it the script's doing.
NOISE = (
    "oneDNN custom operations",
    "cuda drivers",
    "cuInit",
    "absl::InitializeLog",
    "cpu_feature_guard",
    "Local rendezvous",
)


@pytest.fixture(scope="module")
def report() -> dict:
    """A real probe (Keras 3 only: one stack is enough here), renamed and relabelled."""
    probed = probe_code(SCRIPT, name=NAME, keras="3")
    return {**probed, "verdict": VERDICT, "label": LABEL}


# --- reading rendered HTML --------------------------------------------------------------------
class Page(HTMLParser):
    """Every element's tag, and the text inside each element (nested text included)."""

    VOID = {"br", "hr", "img", "input", "meta", "link", "col", "area", "base", "wbr"}

    def __init__(self, html: str):
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict]] = []
        self.open: list[list] = []  # [tag, attrs, text parts]
        self.closed: list[tuple[str, dict, str]] = []
        self.feed(html)
        self.close()

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))
        if tag not in self.VOID:
            self.open.append([tag, dict(attrs), []])

    def handle_endtag(self, tag):
        while self.open:
            name, attrs, parts = self.open.pop()
            self.closed.append((name, attrs, "".join(parts)))
            if name == tag:
                break

    def handle_data(self, data):
        for element in self.open:
            element[2].append(data)

    def texts(self, tag: str, **attrs) -> list[str]:
        return [
            text
            for name, a, text in self.closed
            if name == tag and all(a.get(k) == v for k, v in attrs.items())
        ]

    def names(self) -> set[str]:
        return {tag for tag, _ in self.tags}


def rendered(markdown: str) -> Page:
    return Page(MD.render(markdown))


def reads(markdown: str) -> str:
    """The text a reader sees of one paragraph of Markdown."""
    return "".join(rendered(markdown).texts("p"))


# --- the page helpers -------------------------------------------------------------------------
AS_WRITTEN = [
    NASTY,
    MESSAGE,
    LABEL,
    "my_data_v2.csv",
    "a*b*c and _x_ and **y**",
    "[a link](javascript:alert(1)) and ![an image](x.png)",
    "&lt; is an entity, & is not, &amp; neither",
    "- not a list",
    "1. not a list either",
    "# not a heading",
    "> not a quote",
    "x:red[y] and :small: and :material/home: and $x$ and $$y$$",
    "~~not struck~~ and | a | table | row |",
    "<!-- not a comment --> and <b>not bold</b>",
    "a lone ` backtick, and ``two``` unmatched",
    "C:\\Users\\me\\train.py",
]


@pytest.mark.parametrize("text", AS_WRITTEN)
def test_the_pages_markdown_reads_as_written_and_makes_no_element(text):
    out = view.md(text)
    page = rendered(out)
    assert reads(out) == text
    assert page.names() <= {"p"}, page.names()  # no emphasis, code, link, image, HTML
    # Streamlit's own syntax (`:red[...]`, `:material/...:`, `$...$`) is escaped too
    assert not re.search(r"(?<!\\)[:$]", out), out


@pytest.mark.parametrize("text", [NAME, NASTY, "`x` and `y`", "``"])
def test_a_name_reads_as_written_backticks_and_all(text):
    """A script's name or an exception's message: no backtick of it opens code."""
    out = view.md(text, spans=False)
    assert reads(out) == text
    assert rendered(out).names() <= {"p"}
    assert rendered(view.code(text)).texts("code") == [text]


@pytest.mark.parametrize(
    ("text", "reads_as", "code"),
    [
        (VERDICT, VERDICT_READS, ["__len__"]),
        ("call `fit()` with `steps_per_epoch=10`", "call fit() with steps_per_epoch=10",
         ["fit()", "steps_per_epoch=10"]),
        ("`` a `tick` inside ``", "a `tick` inside", ["a `tick` inside"]),
        ("`a\n<script>alert(1)</script>`", "a <script>alert(1)</script>",
         ["a <script>alert(1)</script>"]),
    ],
)  # fmt: skip
def test_code_spans_stay_code_and_nothing_else_does(text, reads_as, code):
    out = view.md(text)
    page = rendered(out)
    assert reads(out) == reads_as == view.plain(text)
    assert page.texts("code") == code
    assert page.names() <= {"p", "code"}


@pytest.mark.parametrize(
    "text", ["`", "``", "a ` b", "` x `", " x ", "x``y`", "ends with `", NASTY, NAME]
)
def test_a_code_span_holds_any_name(text):
    page = rendered(f"name: {code_span(text)}")
    assert page.texts("code") == [text]
    assert page.names() == {"p", "code"}


def test_a_fenced_block_holds_any_text():
    text = "```\nnot the end\n````\n" + NASTY
    page = rendered(fenced(text))
    assert page.texts("code") == [text + "\n"]
    assert page.names() == {"pre", "code"}


def test_every_title_reads_as_its_plain_text():
    """Sample and rule titles: Markdown where Markdown renders, plain text in a selectbox
    (which shows its options as they are), the same words in both."""
    titles = [s.title for s in samples()] + [m.TITLE for m in catalog().values()]
    assert any("__len__" in t for t in titles) and any("`" in t for t in titles)
    for title in titles:
        assert reads(view.md(title)) == view.plain(title) == plain_text(title), title
        assert "`" not in view.plain(title), title


# --- the exports ------------------------------------------------------------------------------
@pytest.mark.slow
def test_the_markdown_export_reads_as_written_and_stays_inert(report):
    page = rendered(render_markdown(report))
    assert not page.names() & {"script", "img", "a", "em", "del"}
    assert page.texts("h1") == [f"fitprobe report: {NAME}"]
    assert page.texts("strong")[0] == VERDICT_READS
    items = page.texts("li")
    assert f"label: {LABEL}" in items
    (raised,) = [i for i in items if i.startswith("Keras 3, fit() call 0: ValueError")]
    assert f": {MESSAGE} (raised as InvalidArgumentError)" in raised
    (traceback,) = [c for c in page.texts("code") if c.startswith("Traceback")]
    assert traceback == report["stacks"][0]["script_exception"]["traceback"].rstrip("\n") + "\n"


@pytest.mark.slow
@pytest.mark.parametrize("charts", [False, True], ids=["text", "with charts"])
def test_the_html_export_reads_as_written_and_its_json_is_the_report(report, charts):
    html = render_html(report, charts=charts)
    page = Page(html)
    assert "img" not in page.names()
    (embedded,) = page.texts("script", id="fitprobe-report")
    assert json.loads(embedded) == json.loads(to_json(report))
    assert html.count('id="fitprobe-report"') == 1
    assert page.texts("title") == [f"fitprobe: {NAME}"]
    assert page.texts("h1")[0] == f"fitprobe report: {NAME}"
    assert page.texts("p", **{"class": "verdict"}) == [VERDICT_READS]
    assert any(MESSAGE in item for item in page.texts("li"))
    assert f"label: {LABEL}" in page.texts("p")
    if not charts:
        assert [tag for tag, _ in page.tags if tag == "script"] == ["script"]


# --- the output panel -------------------------------------------------------------------------
@pytest.mark.slow
def test_tensorflows_logging_is_hidden_from_the_output_the_scripts_is_not(report):
    stderr = report["stacks"][0]["stderr"]["text"]
    assert any(n in stderr for n in NOISE)  # it is there to hide, on this machine
    kept, dropped = quiet_output(stderr)
    assert dropped >= 3
    assert not [n for n in NOISE if n in kept]
    assert "the script's own line on stderr\n    and an indented one\n" in kept
    assert quiet_output(kept) == (kept, 0)


@pytest.mark.slow
def test_the_traceback_starts_at_the_users_file_under_its_own_name(report):
    traceback = report["stacks"][0]["script_exception"]["traceback"]
    assert traceback.startswith(f'Traceback (most recent call last):\n  File "{NAME}", line 19')
    assert f'File "{NAME}", line 14, in batches' in traceback  # TensorFlow quotes it too
    for fitprobes in ("diagnostics/worker", "<frozen runpy>", "script.py", "fitprobe-input-"):
        assert fitprobes not in traceback


@pytest.mark.slow
def test_the_output_panel_shows_the_script_and_keeps_the_raw_text_a_click_away(report):
    default_store().save(report)
    at = AppTest.from_file(APP, default_timeout=60)
    at.query_params["report"] = report["id"]
    at.run()
    assert not at.exception, at.exception
    labels = [t.label for t in at.tabs]
    (raw,) = [label for label in labels if label.startswith("Raw output")]
    assert re.fullmatch(r"Raw output \(\d+ lines of TensorFlow/CUDA logging hidden\)", raw)
    stderr = [c.value for c in at.code if "the script's own line on stderr" in c.value]
    noisy = [any(n in text for n in NOISE) for text in stderr]
    assert sorted(noisy) == [False, True]  # shown quiet; the raw tab holds it all


# --- severity words ---------------------------------------------------------------------------
def _written(module) -> tuple[set[str], set[str]]:
    """(severities its check() can give, its static findings'), read from its code."""
    tree = ast.parse(Path(module.__file__).read_text(encoding="utf-8"))
    observed, static = set(), set()

    def value(node):
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            return {node.value}
        if isinstance(node, ast.Name) and node.id == "SEVERITY":
            return {module.SEVERITY}
        if isinstance(node, ast.IfExp):
            return value(node.body) | value(node.orelse)
        return set()

    for node in ast.walk(tree):
        if isinstance(node, ast.Assign) and [getattr(t, "id", None) for t in node.targets] == [
            "severity"
        ]:
            observed |= value(node.value)
        elif isinstance(node, ast.Call) and getattr(node.func, "id", None) == "Finding":
            observed |= {s for k in node.keywords if k.arg == "severity" for s in value(k.value)}
        elif isinstance(node, ast.Call) and getattr(node.func, "id", None) == "static_finding":
            static |= value(node.args[1])
        elif isinstance(node, ast.Call) and getattr(node.func, "id", None) == "floored_counts":
            static.add(READ_FROM_CODE)  # rules/_shared.py: its static findings are warnings
    return observed, static


def test_the_severity_table_says_what_the_rules_write():
    for code, module in catalog().items():
        observed, static = _written(module)
        cases = set(SEVERITY_CASES.get(code, {}))
        assert observed - {module.SEVERITY} == cases, code
        if static:
            at = module.SEVERITY if code in STATIC_AT_DEFAULT else READ_FROM_CODE
            assert static == {at}, code
    assert set(SEVERITY_CASES) <= set(catalog())
    shared = ast.parse((ROOT / "diagnostics" / "rules" / "_shared.py").read_text("utf-8"))
    assert {
        node.args[1].value
        for node in ast.walk(shared)
        if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "static_finding"
    } == {READ_FROM_CODE}


def test_a_finding_says_why_its_severity_is_not_its_rules():
    shapes = {"code": "inconsistent-batch-shape", "severity": "info"}
    assert severity_note(shapes) == (
        "default severity: warning; this finding: info, because only sizes vary and training "
        "went on (fine for a model that takes variable-size inputs)"
    )
    assert severity_note({**shapes, "severity": "warning"}) is None
    static = {"code": "finite-generator-exhausted", "severity": "warning", "static": True}
    assert "because it was read from the code only" in severity_note(static)
    assert severity_words("shuffle-ignored") == "warning"
    assert severity_words("inconsistent-batch-shape").startswith(
        "usually warning; error when training crashed on the odd batch; info when"
    )


def test_the_rules_page_shows_the_usual_severity_and_the_cases():
    at = AppTest.from_file(APP, default_timeout=60)
    at.query_params["rule"] = "inconsistent-batch-shape"
    at.run()
    at.switch_page("pages/rules.py").run()
    assert not at.exception, at.exception
    first = at.expander[0]
    assert first.label.startswith("`inconsistent-batch-shape` · usually warning · ")
    assert any(m.value.startswith("**Severity:** usually warning; error when") for m in at.markdown)
    (too_large,) = [e for e in at.expander if "sequence-len-too-large" in e.label]
    assert "\\_\\_len\\_\\_" in too_large.label  # not bold "len"
    at.pills(key="severity").set_value(["info"]).run()
    shown = [e.label for e in at.expander]
    assert any("inconsistent-batch-shape" in label for label in shown)  # info in some cases
    assert not any("shuffle-ignored" in label for label in shown)
