"""Notebooks and pasted cells become the script that is probed, cell lines kept one for one."""

from __future__ import annotations

import json

import nbformat
import pytest

from diagnostics.engine.inputs import InputError, parse_user_bytes
from diagnostics.engine.notebook import (
    convert_cells,
    is_notebook_bytes,
    looks_like_cells,
    read_notebook,
    split_pasted_cells,
)
from diagnostics.engine.precheck import check_source
from diagnostics.report.labels import locate


def notebook_bytes(*cells: str, markdown_first: bool = True) -> bytes:
    nb = nbformat.v4.new_notebook()
    nb.cells = ([nbformat.v4.new_markdown_cell("# title")] if markdown_first else []) + [
        nbformat.v4.new_code_cell(c) for c in cells
    ]
    return nbformat.writes(nb).encode()


def test_magics_and_shell_lines_are_skipped_and_listed_with_cell_and_line():
    converted = read_notebook(
        notebook_bytes(
            "!pip install -q wandb\n%matplotlib inline\nimport numpy as np",
            "files = !ls data\n%load_ext tensorboard\nx = np.zeros(3)",
        ),
        "nb.ipynb",
    )
    skipped = [(s.cell, s.line, s.text) for s in converted.skipped]
    assert skipped == [
        (2, 1, "!pip install -q wandb"),
        (2, 2, "%matplotlib inline"),
        (3, 1, "files = !ls data"),
        (3, 2, "%load_ext tensorboard"),
    ]
    assert "import numpy as np" in converted.script
    assert converted.cells == [
        {"cell": 2, "first_line": 1, "lines": 3},
        {"cell": 3, "first_line": 5, "lines": 3},
    ]
    lines = converted.script.splitlines()
    assert lines[6] == "x = np.zeros(3)"  # script line 7 is cell 3, line 3
    assert locate({"notebook": converted.to_dict()}, 7) == "cell 3, line 3"


def test_timing_magics_run_the_code_they_time():
    converted = convert_cells(
        [
            (1, "%time history = model.fit(x, y)\nprint(1)"),
            (2, "\n%%time\nmodel.fit(x, y)\n!nvidia-smi\n"),
            (3, "%%capture\nout = model.fit(x, y)"),
        ],
        "nb",
        "ipynb",
    )
    lines = converted.script.splitlines()
    assert lines[0] == "history = model.fit(x, y)"
    assert lines[4].startswith("# fitprobe: ran the body of %%time")  # cell 2, line 2
    assert lines[5] == "model.fit(x, y)"  # cell 2, line 3: the body of %%time, in place
    assert [(s.cell, s.line, s.text) for s in converted.skipped] == [(2, 4, "!nvidia-smi")]
    assert lines[9] == "out = model.fit(x, y)"


def test_other_cell_magics_comment_the_cell_out():
    converted = convert_cells([(4, "%%bash\npip install x\nls")], "nb", "ipynb")
    assert converted.script.splitlines()[:3] == ["# %%bash", "# pip install x", "# ls"]
    assert converted.skipped[0].why == "the %%bash cell magic (the whole cell is not run)"


def test_writefile_run_and_named_capture_are_carried_out_by_the_worker_shim():
    converted = convert_cells(
        [
            (1, "%%writefile helper.py\nROWS = 40\n"),
            (2, "%run helper.py\nimport helper"),
            (3, "%%capture cap\nx = 1"),
            (4, "cap.show()"),
        ],
        "nb",
        "ipynb",
    )
    lines = converted.script.splitlines()
    assert lines[0] == "get_ipython().run_cell_magic('writefile', 'helper.py', 'ROWS = 40')"
    assert lines[1] == ""  # the body's line, kept
    assert lines[3] == "get_ipython().run_line_magic('run', 'helper.py')"
    assert lines[6] == "cap = get_ipython().captured()  # fitprobe: %%capture"
    assert converted.skipped == []


def test_lines_carried_on_with_backslashes_keep_later_lines_in_place():
    converted = convert_cells(
        [(2, "!pip install \\\n    wandb \\\n    seaborn\nimport wandb")], "nb", "ipynb"
    )
    lines = converted.script.splitlines()
    assert lines[3] == "import wandb"  # cell 2, line 4, as in the notebook
    assert [(s.line, s.text) for s in converted.skipped] == [
        (1, "!pip install wandb seaborn")
    ]


def test_env_magic_is_kept_for_the_shim_to_set_and_not_listed():
    converted = convert_cells([(1, "%env TF_CPP_MIN_LOG_LEVEL=3")], "nb", "ipynb")
    assert "run_line_magic('env'" in converted.script
    assert converted.skipped == []


def test_a_syntax_error_names_the_cell():
    with pytest.raises(InputError, match=r"nb.ipynb has a syntax error in cell 3, line 1"):
        read_notebook(notebook_bytes("x = 1", "def broken(:\n"), "nb.ipynb")
    with pytest.raises(InputError, match="nb.ipynb has a syntax error in cell 2, line 2"):
        read_notebook(notebook_bytes("ok = 1\nif True\n    pass"), "nb.ipynb")


def test_unreadable_notebooks_are_refused_clearly():
    with pytest.raises(InputError, match="nb.ipynb is not a readable Jupyter notebook"):
        read_notebook(b'{"cells": "no", "nbformat": 4}', "nb.ipynb")
    with pytest.raises(InputError, match="nb.ipynb has no code cells: nothing to probe"):
        read_notebook(notebook_bytes(), "nb.ipynb")
    with pytest.raises(InputError, match="broken.ipynb is not a readable Jupyter notebook"):
        parse_user_bytes(b"{not json", "broken.ipynb")


def test_a_notebook_is_recognised_by_content_too():
    data = notebook_bytes("import numpy")
    assert is_notebook_bytes(data)
    assert not is_notebook_bytes(b'{"a": 1}') and not is_notebook_bytes(b"import json")
    user_file = parse_user_bytes(data, "pasted_script.py")
    assert user_file.notebook is not None and user_file.script_name == "pasted_script.py"


def test_a_notebook_exported_as_a_script_runs_its_get_ipython_calls_through_the_shim():
    exported = (
        "#!/usr/bin/env python\n# In[1]:\n\n\nget_ipython().system('pip install wandb')\n"
        "import numpy as np\n\n\n# In[2]:\n\n\nx = np.ones(3)\n"
    )
    assert looks_like_cells(exported)
    user_file = parse_user_bytes(exported.encode(), "exported.py")
    assert user_file.notebook is not None
    assert [s.text for s in user_file.notebook.skipped] == [
        "get_ipython().system('pip install wandb')"
    ]


def test_a_syntax_error_in_pasted_cells_is_reported_by_cell_and_line():
    with pytest.raises(InputError, match="has a syntax error in cell 1, line 3"):
        parse_user_bytes(b"!pip install foo\nimport os\ndef broken(:\n    pass\n", "p.py")


def test_pasted_cells_are_read_as_a_notebook_only_when_they_need_it():
    pasted = "# %%\n!pip install foo\nimport numpy as np\n# %%\nx = np.ones(3)\n"
    assert looks_like_cells(pasted)
    assert [n for n, _ in split_pasted_cells(pasted)] == [1, 2]
    assert not looks_like_cells("import numpy as np\nx = 1\n")  # plain Python stays a script
    assert not looks_like_cells("def broken(:\n")  # a syntax error is a syntax error
    precheck = check_source(pasted, "pasted_script.py")
    assert precheck.error is None
    assert precheck.notebook["source"] == "pasted cells"
    assert [s["text"] for s in precheck.notebook["skipped"]] == ["!pip install foo"]


def test_the_size_limit_of_a_notebook_is_its_own():
    outputs = {"outputs": [{"output_type": "stream", "name": "stdout", "text": "x" * 3_000_000}]}
    nb = json.loads(notebook_bytes("print(1)"))
    nb["cells"][1].update(outputs, execution_count=1)
    data = json.dumps(nb).encode()
    assert len(data) > 2 * 1024 * 1024
    assert parse_user_bytes(data, "big.ipynb").notebook is not None
    with pytest.raises(InputError, match="a training script is expected"):
        parse_user_bytes(data, "big.py")


def test_static_findings_in_a_notebook_point_at_cells():
    precheck = check_source(notebook_bytes("x = 1", "import wandb\nwandb.init()"), "nb.ipynb")
    finding = next(f for f in precheck.findings if f["code"] == "missing-module")
    assert "the script imports `wandb` (cell 3, line 1)" in finding["title"]
    assert precheck.where(finding["line"]) == "cell 3, line 1"
