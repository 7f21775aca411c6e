"""The app, driven through Streamlit's AppTest: no exception, widgets by key, a real probe."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

APP = str(Path(__file__).parent.parent / "app.py")


def test_app_starts_with_the_embedded_default_script():
    at = AppTest.from_file(APP, default_timeout=60).run()
    assert not at.exception
    assert "model.fit(" in at.text_area(key="script").value
    assert at.selectbox(key="keras").value == "both"
    assert at.button(key="probe").label == "Probe"
    assert at.info[0].value.startswith("Press **Probe**")


def test_an_empty_script_gets_a_message_not_a_probe():
    at = AppTest.from_file(APP, default_timeout=60).run()
    at.text_area(key="script").set_value("   ")
    at.button(key="probe").click().run()
    assert not at.exception
    assert at.info[0].value == "Paste a training script first."


@pytest.mark.slow
def test_probing_the_default_script_end_to_end():
    at = AppTest.from_file(APP, default_timeout=400).run()
    at.button(key="probe").click().run()
    assert not at.exception
    verdict = at.error[0].value
    assert "on Keras 2 training stops after 2 epochs" in verdict
    assert any("finite-generator-exhausted" in m.value for m in at.markdown)
    table = at.dataframe[0].value
    keras3 = table[(table["stack"] == "Keras 3") & table["epoch"].notna()]
    assert keras3["trained"].tolist() == [10, 0, 2, 2, 2]
    keras2 = table[(table["stack"] == "Keras 2") & table["epoch"].notna()]
    assert keras2["trained"].tolist() == [10, 0]
