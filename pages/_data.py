"""The Probe page's "data and modules" section: attach an archive, stand in image folders,
stub missing trackers. Widgets only; what they mean is `diagnostics.engine.attach`'s."""

from __future__ import annotations

from dataclasses import dataclass, field

import streamlit as st

from diagnostics import (
    ARCHIVE_SUFFIXES,
    MAX_ARCHIVE_BYTES,
    ProbeOptions,
    StandIn,
    archive_listing,
    covers,
    off_data_path,
    parse_counts,
)
from pages import _view as view

ARCHIVE_MB = MAX_ARCHIVE_BYTES // (1024 * 1024)
EXAMPLE_LINE = "Found 2000 images belonging to 2 classes."


@dataclass
class DataChoice:
    attachment: tuple[str, bytes] | None = None
    standins: list = field(default_factory=list)
    stub_missing: bool = False
    problems: list[str] = field(default_factory=list)  # shown already; Probe waits for them

    def options(self) -> dict:
        """Its part of the probe's ProbeOptions (the archive goes with the job)."""
        return {"standin_images": tuple(self.standins), "stub_missing": self.stub_missing}


def _counts(text: str, path: str, problems: list[str]):
    """A stand-in from Keras's pasted line or `N:K`; None for an empty box."""
    text = text.strip()
    if not text:
        return None
    found = parse_counts(text)
    if found is None:
        problems.append(
            f"Stand-in for `{path}`: paste Keras's line (`{EXAMPLE_LINE}`) or write N:K "
            "(N images in K classes)."
        )
        return None
    try:
        return StandIn(path, *found)
    except ValueError as exc:
        problems.append(str(exc))
        return None


def data_section(precheck, key: str = "data") -> DataChoice:
    """The section, drawn; returns what the user chose (and what is wrong with it)."""
    choice = DataChoice()
    reads = [p for p in precheck.data_paths if not p["path"].startswith(("/", "http"))]
    missing_modules = [
        f["evidence"].get("module")
        for f in precheck.findings
        if f["code"] == "missing-module" and f["evidence"].get("module")
    ]
    opened = bool(reads or missing_modules)
    with st.expander("Data the script reads, and modules it lacks", expanded=opened):
        upload = st.file_uploader(
            "Attach the data, as it lies beside the script (a .zip or .tar.gz, at most "
            f"{ARCHIVE_MB} MB): it appears read-only as the script's working directory",
            key=view.upload_key(f"{key}-archive"),
            max_upload_size=ARCHIVE_MB,
        )
        upload = view.accepted_upload(
            upload, f"{key}-archive", dict.fromkeys(ARCHIVE_SUFFIXES, ARCHIVE_MB)
        )
        listing: list[str] = []
        if upload is not None:
            raw = upload.getvalue()
            listing = archive_listing(raw)
            if listing is None:
                choice.problems.append(
                    f"{view.code(upload.name)} cannot be read as a .zip, .tar.gz, .tgz or "
                    ".tar archive: it may be damaged."
                )
            else:
                choice.attachment = (upload.name, raw)
                st.caption(f"{view.code(upload.name)}: {len(listing)} entries")
        folders = []
        for p in reads:
            where = precheck.where(p["line"])
            if listing and covers(listing, p["path"]):
                st.markdown(f"✅ {view.code(p['path'])} ({where}, `{p['loader']}`): attached")
            elif p["image_folder"]:
                folders.append(p)
            else:
                st.markdown(
                    f"⚠️ {view.code(p['path'])} ({where}, `{p['loader']}`): not attached; "
                    "the script will not find it"
                )
        _standins(folders, precheck, choice, key)
        stubbable = [m for m in missing_modules if off_data_path(m)]
        choice.stub_missing = st.checkbox(
            "Stub missing trackers, plotting and notification modules",
            key=f"{key}-stub",
            help="A module that is not installed here and never feeds the data (wandb, mlflow, "
            "seaborn, telegram, ...) is replaced by one that does nothing; the report lists it. "
            "Modules that may shape the data are never stubbed.",
        )
        if stubbable:
            st.caption(
                "Not installed here, and safe to stub (tick the box to probe with them "
                "stubbed): " + ", ".join(f"`{m}` ({off_data_path(m)})" for m in stubbable)
            )
    for problem in choice.problems:
        st.error(problem)
    return choice


def _standins(folders: list[dict], precheck, choice: DataChoice, key: str) -> None:
    st.markdown(
        "**Stand-in image folders**: no need to upload the images. Give each folder's counts "
        f"(paste Keras's own line, `{EXAMPLE_LINE}`, or write N:K) and fitprobe generates "
        "that many tiny images in class folders, so the batch arithmetic is real."
    )
    seen = set()
    for p in folders:
        if p["path"] in seen:
            continue
        seen.add(p["path"])
        subset = any(q["subset"] for q in folders if q["path"] == p["path"])
        text = st.text_input(
            f"`{p['path']}` ({precheck.where(p['line'])}, `{p['loader']}`): not attached",
            placeholder=f"{EXAMPLE_LINE}   or   2000:2",
            key=f"{key}-standin-{p['path']}",
            help="The script reads a subset of this folder (validation_split): give the "
            "whole folder's count, both subsets' Found lines added up, not one subset's."
            if subset
            else None,
        )
        made = _counts(text, p["path"], choice.problems)
        if made:
            choice.standins.append(made)
    left, right = st.columns(2)
    path = left.text_input("Another image folder (its path as the script writes it)",
                           key=f"{key}-standin-other-path")  # fmt: skip
    counts = right.text_input("Its counts", placeholder=EXAMPLE_LINE,
                              key=f"{key}-standin-other-counts")  # fmt: skip
    if path.strip() and path.strip() not in seen:
        made = _counts(counts, path.strip(), choice.problems)
        if made:
            choice.standins.append(made)
        elif not counts.strip():
            choice.problems.append(f"Give the counts of `{path.strip()}`, or clear its path.")
    elif counts.strip() and not path.strip():
        choice.problems.append("Give the path of the folder the counts are for.")
    try:
        ProbeOptions(standin_images=tuple(choice.standins))  # one per folder
    except ValueError as exc:
        choice.problems.append(str(exc))
