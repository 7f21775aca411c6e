"""Attached data: archives unpacked safely or refused with a clear line; stand-in requests."""

from __future__ import annotations

import io
import os
import re
import stat
import tarfile
import warnings
import zipfile
from pathlib import Path

import pytest

from diagnostics.engine import attach
from diagnostics.engine.attach import (
    archive_listing,
    attach_data,
    covers,
    parse_found_line,
    parse_standin,
)
from diagnostics.engine.inputs import InputError
from diagnostics.schema import ProbeOptions, StandIn


def make_zip(path: Path, members: dict[str, bytes]) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in members.items():
            z.writestr(name, data)
    return path


def make_tar(path: Path, members: list[tarfile.TarInfo], data: dict[str, bytes] | None = None):
    with tarfile.open(path, "w:gz") as tar:
        for info in members:
            payload = (data or {}).get(info.name)
            tar.addfile(info, io.BytesIO(payload) if payload is not None else None)
    return path


def tar_file(name: str, data: bytes) -> tuple[tarfile.TarInfo, bytes]:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    return info, data


def refused(path: Path, name: str | None = None) -> str:
    with pytest.raises(InputError) as caught:
        attach_data(path, name)
    return str(caught.value)


def test_a_zip_is_unpacked_with_its_folders_and_reported(tmp_path):
    archive = make_zip(
        tmp_path / "data.zip",
        {"data/train/cat/1.png": b"x" * 10, "data/train/dog/2.png": b"y" * 5, "notes/": b""},
    )
    data = attach_data(archive)
    try:
        root = Path(data.path)
        assert (root / "data/train/cat/1.png").read_bytes() == b"x" * 10
        assert (root / "notes").is_dir()
        assert data.to_dict() == {"name": "data.zip", "kind": "archive", "files": 2, "bytes": 15}
        mode = (root / "data/train/dog/2.png").stat().st_mode
        assert stat.S_IMODE(mode) == 0o644  # readable by the sandbox's unprivileged user
    finally:
        data.remove()
    assert not Path(data.path).exists()


def test_a_folder_is_used_where_it_is_and_never_removed(tmp_path):
    (tmp_path / "x.npy").write_bytes(b"123")
    data = attach_data(tmp_path, "mydata")
    assert (data.path, data.kind, data.files, data.owned) == (str(tmp_path), "folder", 1, False)
    data.remove()
    assert (tmp_path / "x.npy").exists()


def test_a_tar_gz_is_unpacked(tmp_path):
    info, payload = tar_file("measurements.csv", b"a,b\n1,2\n")
    data = attach_data(make_tar(tmp_path / "d.tar.gz", [info], {info.name: payload}))
    try:
        assert (Path(data.path) / "measurements.csv").read_bytes() == b"a,b\n1,2\n"
    finally:
        data.remove()


@pytest.mark.parametrize(
    "name, why",
    [
        ("../../etc/cron.d/evil", "climbs out with '..'"),
        ("data/../../evil", "climbs out with '..'"),
        ("/etc/passwd", "is an absolute path"),
        ("C:/Windows/evil.dll", "is an absolute path"),
    ],
)
def test_a_zip_slip_is_refused_before_anything_is_written(tmp_path, name, why):
    archive = make_zip(tmp_path / "slip.zip", {"fine.txt": b"ok", name: b"evil"})
    before = set(os.listdir(tmp_path.parent))
    message = refused(archive)
    assert message == f"attached data slip.zip: refused, {name!r} {why}"
    assert set(os.listdir(tmp_path.parent)) == before
    assert not list(Path("/tmp").glob("fitprobe-data-*/fine.txt"))  # nothing kept


def test_links_and_devices_in_a_tar_are_refused(tmp_path):
    link = tarfile.TarInfo("data/passwd")
    link.type, link.linkname = tarfile.SYMTYPE, "/etc/passwd"
    assert refused(make_tar(tmp_path / "a.tar.gz", [link])) == (
        "attached data a.tar.gz: refused, 'data/passwd' is a link"
    )
    hard = tarfile.TarInfo("data/shadow")
    hard.type, hard.linkname = tarfile.LNKTYPE, "etc/shadow"
    assert "is a link" in refused(make_tar(tmp_path / "b.tar.gz", [hard]))
    device = tarfile.TarInfo("data/null")
    device.type = tarfile.CHRTYPE
    assert refused(make_tar(tmp_path / "c.tar.gz", [device])) == (
        "attached data c.tar.gz: refused, 'data/null' is a special file"
    )


def test_a_symlink_in_a_zip_is_refused(tmp_path):
    archive = tmp_path / "link.zip"
    with zipfile.ZipFile(archive, "w") as z:
        info = zipfile.ZipInfo("data/escape")
        info.external_attr = (stat.S_IFLNK | 0o777) << 16
        z.writestr(info, "/etc/passwd")
    assert refused(archive) == "attached data link.zip: refused, 'data/escape' is a link"


def test_a_zip_bomb_is_refused_from_its_headers(tmp_path, monkeypatch):
    monkeypatch.setattr(attach, "MAX_UNPACKED_BYTES", 1024 * 1024)
    archive = tmp_path / "bomb.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("zeros.bin", b"\0" * (8 * 1024 * 1024))  # 8 MB of zeros: ~8 KB packed
    assert archive.stat().st_size < 64 * 1024
    assert refused(archive) == (
        "attached data bomb.zip: refused, it unpacks to more than 1 MB "
        "(a zip bomb, or simply too much data for a probe)"
    )


def test_bytes_are_counted_as_written_whatever_the_headers_said(tmp_path, monkeypatch):
    """Headers can lie: unpacking stops at the cap on what was really written."""
    monkeypatch.setattr(attach, "MAX_UNPACKED_BYTES", 3 * attach.CHUNK)
    budget = attach._Budget("liar.zip")
    with pytest.raises(InputError, match="unpacks to more than"):
        attach._copy_capped(io.BytesIO(b"\0" * (4 * attach.CHUNK)), tmp_path / "out", budget)
    assert (tmp_path / "out").stat().st_size <= 3 * attach.CHUNK


@pytest.mark.parametrize(
    "members, message",
    [
        ([("a", b"x"), ("a/", b"")], "'a/' is in it twice, or as a file and a folder"),
        ([("a", b"x"), ("a/b.txt", b"y")], "'a/b.txt' is inside 'a', which is a file"),
        ([("d/x.csv", b"1"), ("d/x.csv", b"2")], "'d/x.csv' is in it twice"),
        ([("x" * 300, b"1")], "cannot unpack 'xxxxxxxx"),
        ([], "holds no files"),
        ([("__MACOSX/._x.csv", b"j"), ("._y", b"j")], "holds no files"),
    ],
)
def test_clashing_odd_or_empty_members_get_a_clear_refusal(tmp_path, members, message):
    archive = tmp_path / "odd.zip"
    with zipfile.ZipFile(archive, "w") as z, warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # zipfile's own "Duplicate name"
        for name, data in members:
            z.writestr(name, data)
    assert message in refused(archive)


def test_archivers_own_files_are_left_out_and_names_may_be_unicode(tmp_path):
    archive = make_zip(
        tmp_path / "mac.zip",
        {"__MACOSX/données/._été.csv": b"j", "données/été.csv": b"1,2", ".DS_Store": b"j"},
    )
    data = attach_data(archive)
    try:
        assert sorted(p.name for p in Path(data.path).rglob("*")) == ["données", "été.csv"]
        assert data.files == 1
    finally:
        data.remove()


def test_a_damaged_tar_gz_is_refused_not_a_crash(tmp_path):
    payload = os.urandom(200_000)
    info, _ = tar_file("big.bin", payload)
    whole = make_tar(tmp_path / "whole.tar.gz", [info], {info.name: payload})
    (tmp_path / "cut.tar.gz").write_bytes(whole.read_bytes()[:50_000])
    assert refused(tmp_path / "cut.tar.gz").startswith("attached data cut.tar.gz: ")


def test_too_many_files_are_refused(tmp_path, monkeypatch):
    monkeypatch.setattr(attach, "MAX_FILES", 50)
    archive = make_zip(tmp_path / "many.zip", {f"f{i}.txt": b"" for i in range(51)})
    assert refused(archive) == (
        "attached data many.zip: refused, it holds more than 50 files and folders"
    )


def test_an_archive_over_the_upload_cap_is_refused(tmp_path, monkeypatch):
    monkeypatch.setattr(attach, "MAX_ARCHIVE_BYTES", 100)
    archive = make_zip(tmp_path / "big.zip", {"x.bin": os.urandom(400)})
    assert refused(archive).startswith("attached data big.zip is 0 MB; at most 0 MB can be")


def test_what_is_not_an_archive_is_refused(tmp_path):
    (tmp_path / "notes.txt").write_text("hello")
    assert refused(tmp_path / "notes.txt") == (
        "attached data notes.txt: expected a folder or a .zip, .tar.gz or .tar "
        "(.tgz, .tar.bz2, .tar.xz) archive"
    )
    (tmp_path / "fake.zip").write_bytes(b"not a zip at all")
    assert refused(tmp_path / "fake.zip") == (
        "attached data fake.zip is not a readable zip or tar archive"
    )
    assert refused(tmp_path / "nowhere") == "attached data nowhere: no such file or folder"


def test_the_listing_tells_which_paths_an_archive_covers(tmp_path):
    archive = make_zip(tmp_path / "d.zip", {"data/train/a/1.png": b"1", "x.npy": b"2"})
    listing = archive_listing(archive.read_bytes())
    assert covers(listing, "data/train") and covers(listing, "./data/train/")
    assert covers(listing, "x.npy") and not covers(listing, "data/validation")
    assert archive_listing(b"plain bytes") is None


def test_stand_in_requests_read_counts_or_keras_own_line():
    assert parse_standin("data/train=2000:2") == StandIn("data/train", 2000, 2)
    assert parse_standin("data/val=Found 800 images belonging to 2 classes.") == StandIn(
        "data/val", 800, 2
    )
    assert parse_found_line("Found 640 files belonging to 4 classes.") == (640, 4)
    assert parse_found_line("nothing here") is None
    assert parse_found_line(
        "Found 130 validated image filenames belonging to 2 classes."
    ) == (130, 2)
    for spec, message in [
        ("data/train", "expected PATH=N:K (N images in K classes) or PATH=<Keras's Found"),
        ("data/train=many:2", "expected PATH=N:K (N images in K classes) or PATH=<Keras's"),
        ("/content/drive/train=10:2", "the path must be relative to the script's working"),
        ("../up=10:2", "the path must stay inside the working directory"),
        ("d=1:2", "images must be at least the number of classes (2)"),
        ("d=10:0", "classes must be 1 to 1000"),
    ]:
        with pytest.raises(ValueError, match=re.escape(message)):
            parse_standin(spec)
    with pytest.raises(ValueError, match="stand-in folders data/train and data/train overlap"):
        ProbeOptions(
            standin_images=(parse_standin("data/train=4:2"), parse_standin("./data/train=8:2"))
        )
    with pytest.raises(ValueError, match="data and data/train overlap"):
        ProbeOptions(standin_images=(StandIn("data", 4, 2), StandIn("data/train", 4, 2)))
