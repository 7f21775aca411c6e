"""Data a script reads from disk: attached archives and folders, and stand-in image folders.

Parent side. A user attaches their data as a folder (CLI) or a `.zip` / `.tar.gz`
(app and CLI); an archive is unpacked here, safely, before any worker starts, and
refused with one clear line when it is not plain data: an absolute path, a `..`, a
link, a device, or more than the caps allow (a zip bomb is refused from its headers
and, should they lie, stopped while it is being unpacked). The worker then sees the
data read-only, as its working directory's contents (see `worker.enter_data`).

A stand-in image folder is the answer to "my data is not here, but I know how much
there is": `PATH=N:K` asks for N tiny images in K class folders under PATH, which the
worker generates in its own scratch (`surroundings.generate_standins`), so that
`flow_from_directory` and friends do their real batch arithmetic on them. Keras's
own line ("Found 2000 images belonging to 2 classes.") reads as the same request.
"""

from __future__ import annotations

import functools
import os
import re
import shutil
import stat
import tarfile
import zipfile
import zlib
from dataclasses import asdict, dataclass
from pathlib import Path, PurePosixPath

from diagnostics.engine.inputs import InputError
from diagnostics.engine.leftovers import temp_folder
from diagnostics.schema import StandIn

__all__ = [
    "ARCHIVE_SUFFIXES",
    "AttachedData",
    "MAX_ARCHIVE_BYTES",
    "MAX_FILES",
    "MAX_UNPACKED_BYTES",
    "archive_listing",
    "attach_data",
    "covers",
    "parse_counts",
    "parse_found_line",
    "parse_standin",
]

MAX_ARCHIVE_BYTES = 200 * 1024 * 1024  # the archive as uploaded
MAX_UNPACKED_BYTES = 512 * 1024 * 1024  # what it holds, unpacked
MAX_FILES = 20_000  # files and folders in it
ARCHIVE_SUFFIXES = (".zip", ".tar.gz", ".tgz", ".tar", ".tar.bz2", ".tbz2", ".tar.xz", ".txz")
CHUNK = 1024 * 1024


@dataclass
class AttachedData:
    """A folder of data for the script: `path` on this machine, and what the report says."""

    path: str
    name: str  # the archive's or folder's name, as the user gave it
    kind: str  # "folder" | "archive"
    files: int
    bytes: int
    owned: bool  # unpacked here: removed after the probe

    def to_dict(self) -> dict:
        out = asdict(self)
        del out["path"], out["owned"]
        return out

    def remove(self) -> None:
        if self.owned:
            shutil.rmtree(self.path, ignore_errors=True)


def attach_data(source, name: str | None = None) -> AttachedData:
    """A folder as it is, or an archive unpacked into a new temporary folder; InputError
    (one line) for anything else, or for an archive that is not plain data within the caps."""
    source = Path(source)
    display = name or source.name
    if source.is_dir():
        files, size = _measure(source)
        display = name or source.resolve().name  # `--data .` is shown by its real name
        return AttachedData(str(source.resolve()), display, "folder", files, size, owned=False)
    if not source.is_file():
        raise InputError(f"attached data {display}: no such file or folder")
    lowered = display.lower()
    if not lowered.endswith(ARCHIVE_SUFFIXES):
        raise InputError(
            f"attached data {display}: expected a folder or a .zip, .tar.gz or .tar "
            "(.tgz, .tar.bz2, .tar.xz) archive"
        )
    packed = source.stat().st_size
    if packed > MAX_ARCHIVE_BYTES:
        raise InputError(
            f"attached data {display} is {packed / 1e6:.0f} MB; at most "
            f"{MAX_ARCHIVE_BYTES // (1024 * 1024)} MB can be attached (a sample of the data is "
            "enough: fitprobe probes a few epochs)"
        )
    target = temp_folder("data")
    os.chmod(target, 0o755)
    try:
        if zipfile.is_zipfile(source):
            files, size = _unzip(source, Path(target), display)
        elif _is_tar(source):
            files, size = _untar(source, Path(target), display)
        else:
            raise InputError(f"attached data {display} is not a readable zip or tar archive")
    except BaseException:
        shutil.rmtree(target, ignore_errors=True)
        raise
    return AttachedData(target, display, "archive", files, size, owned=True)


def _is_tar(path: Path) -> bool:
    try:
        return tarfile.is_tarfile(path)
    except (OSError, EOFError, tarfile.TarError):
        return False


def _measure(folder: Path) -> tuple[int, int]:
    files = size = 0
    for root, _dirs, names in os.walk(folder):
        files += len(names)
        for n in names:
            try:
                size += os.lstat(os.path.join(root, n)).st_size
            except OSError:
                pass
    return files, size


def _member_path(raw: str, display: str) -> PurePosixPath | None:
    """The member's relative path, or InputError for one that could land outside."""
    text = raw.replace("\\", "/")
    path = PurePosixPath(text)
    if text.startswith("/") or re.match(r"^[A-Za-z]:", text):
        raise InputError(f"attached data {display}: refused, {raw!r} is an absolute path")
    if ".." in path.parts:
        raise InputError(f"attached data {display}: refused, {raw!r} climbs out with '..'")
    parts = [p for p in path.parts if p not in ("", ".")]
    if "\x00" in text:
        raise InputError(f"attached data {display}: refused, a member name holds a NUL byte")
    return PurePosixPath(*parts) if parts else None


class _Budget:
    """Counts files and bytes as they are declared and as they are written."""

    def __init__(self, display: str):
        self.display, self.entries, self.files, self.bytes = display, 0, 0, 0

    def file(self, regular: bool = True) -> None:
        self.entries += 1
        self.files += regular
        if self.entries > MAX_FILES:
            raise InputError(
                f"attached data {self.display}: refused, it holds more than {MAX_FILES} files "
                "and folders"
            )

    def grow(self, n: int) -> None:
        self.bytes += n
        if self.bytes > MAX_UNPACKED_BYTES:
            raise InputError(
                f"attached data {self.display}: refused, it unpacks to more than "
                f"{MAX_UNPACKED_BYTES // (1024 * 1024)} MB (a zip bomb, or simply too much data "
                "for a probe)"
            )


def _copy_capped(stream, target: Path, budget: _Budget) -> None:
    _mkdirs(target.parent)
    with open(target, "xb") as out:
        while chunk := stream.read(CHUNK):
            budget.grow(len(chunk))  # counted as written: headers can lie
            out.write(chunk)
    os.chmod(target, 0o644)  # readable by the sandbox's unprivileged user


def _mkdirs(folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    os.chmod(folder, 0o755)


# Files that archivers add of their own accord, not the user's data: left out.
JUNK_PARTS = ("__MACOSX",)
JUNK_NAMES = (".DS_Store", "Thumbs.db")


def _junk(path: PurePosixPath) -> bool:
    return (
        any(part in JUNK_PARTS for part in path.parts)
        or path.name in JUNK_NAMES
        or path.name.startswith("._")  # macOS resource forks
    )


def _refuse(display: str, why: str) -> InputError:
    return InputError(f"attached data {display}: refused, {why}")


def _write_member(name: str, path: PurePosixPath, is_dir: bool, open_stream, target: Path,
                  budget: _Budget, display: str) -> None:  # fmt: skip
    """Write one member (a folder, or a file read from `open_stream()`), or InputError
    naming the member for whatever stops it (a clash of names, a name too long, ...)."""
    try:
        if is_dir:
            _mkdirs(target / path)
            return
        with open_stream() as stream:
            _copy_capped(stream, target / path, budget)
    except InputError:
        raise
    except (FileExistsError, NotADirectoryError):
        blocked = next((p for p in path.parents if (target / p).is_file()), None)
        why = (
            f"{_short(name)!r} is inside {str(blocked)!r}, which is a file"
            if blocked is not None
            else f"{_short(name)!r} is in it twice, or as a file and a folder"
        )
        raise _refuse(display, why) from None
    except OSError as exc:
        why = f"cannot unpack {_short(name)!r}: {exc.strerror or exc}"
        raise InputError(f"attached data {display}: {why}") from None
    except (zipfile.BadZipFile, tarfile.TarError, EOFError, NotImplementedError, RuntimeError,
            zlib.error) as exc:  # fmt: skip
        why = f"cannot unpack {_short(name)!r}: {exc}"
        raise InputError(f"attached data {display}: {why}") from None


def _short(name: str, most: int = 80) -> str:
    return name if len(name) <= most else name[: most - 1] + "…"


def _finish(written: _Budget, display: str) -> tuple[int, int]:
    if written.files == 0:
        raise InputError(f"attached data {display} holds no files")
    return written.files, written.bytes


def _unzip(source: Path, target: Path, display: str) -> tuple[int, int]:
    with zipfile.ZipFile(source) as archive:
        members = []
        declared = _Budget(display)
        for info in archive.infolist():  # refuse from the headers, before writing anything
            path = _member_path(info.filename, display)
            mode = info.external_attr >> 16
            if mode and stat.S_IFMT(mode) not in (0, stat.S_IFREG, stat.S_IFDIR):
                kind = "a link" if stat.S_ISLNK(mode) else "a special file"
                raise _refuse(display, f"{info.filename!r} is {kind}")
            if path is not None and not _junk(path):
                declared.file(not info.is_dir())
                declared.grow(info.file_size)
                members.append((info, path))
        written = _Budget(display)
        for info, path in members:
            written.file(not info.is_dir())
            opened = functools.partial(archive.open, info)
            _write_member(info.filename, path, info.is_dir(), opened, target, written, display)
        return _finish(written, display)


def _untar(source: Path, target: Path, display: str) -> tuple[int, int]:
    try:
        archive = tarfile.open(source)
    except (tarfile.TarError, OSError, EOFError) as exc:
        raise InputError(f"attached data {display}: cannot read the archive: {exc}") from None
    with archive:
        declared = _Budget(display)
        members = []
        try:
            for member in archive:  # streams the headers; stops at the first refusal
                path = _member_path(member.name, display)
                if member.issym() or member.islnk():
                    raise _refuse(display, f"{member.name!r} is a link")
                if not (member.isfile() or member.isdir()):
                    raise _refuse(display, f"{member.name!r} is a special file")
                if path is not None and not _junk(path):
                    declared.file(member.isfile())
                    declared.grow(member.size)
                    members.append((member, path))
        except (tarfile.TarError, EOFError, OSError, zlib.error) as exc:
            raise InputError(f"attached data {display}: the archive is damaged: {exc}") from None
        written = _Budget(display)
        for member, path in members:
            written.file(member.isfile())
            opened = functools.partial(archive.extractfile, member)
            _write_member(member.name, path, member.isdir(), opened, target, written, display)
        return _finish(written, display)


def archive_listing(data: bytes) -> list[str] | None:
    """The member paths of an archive given as bytes (headers only, nothing unpacked), or
    None when it is not a zip or tar archive."""
    import io

    try:
        if zipfile.is_zipfile(io.BytesIO(data)):
            with zipfile.ZipFile(io.BytesIO(data)) as archive:
                return [info.filename for info in archive.infolist()]
        with tarfile.open(fileobj=io.BytesIO(data)) as archive:
            return [m.name for m in archive]
    except (tarfile.TarError, zipfile.BadZipFile, OSError, EOFError):
        return None


def covers(listing: list[str], path: str) -> bool:
    """Whether a relative `path` a script reads is in an archive's (or folder's) listing."""
    want = str(PurePosixPath(path.replace("\\", "/"))).strip("/")
    if want in ("", "."):
        return True
    for name in listing:
        name = str(PurePosixPath(name.replace("\\", "/"))).strip("/")
        if name == want or name.startswith(want + "/"):
            return True
    return False


# --- stand-in image folders ---------------------------------------------------------------
FOUND = re.compile(  # Keras's lines: images (flow_from_directory), files (image_dataset_...),
    # validated image filenames (flow_from_dataframe)
    r"Found\s+(\d+)\s+(?:validated\s+image\s+filenames|images?|files?)\s+belonging\s+to\s+"
    r"(\d+)\s+class",
    re.IGNORECASE,
)


def parse_found_line(text: str) -> tuple[int, int] | None:
    """(images, classes) from Keras's own line, e.g. "Found 2000 images belonging to 2
    classes." (flow_from_directory) or "Found 2000 files belonging to 2 classes."
    (image_dataset_from_directory); None when the text holds no such line."""
    match = FOUND.search(text or "")
    return (int(match.group(1)), int(match.group(2))) if match else None


def parse_counts(text: str) -> tuple[int, int] | None:
    """(images, classes) from `N:K` or from Keras's own Found line; None otherwise."""
    found = parse_found_line(text)
    if found:
        return found
    images, _, classes = text.partition(":")
    if images.strip().isdigit() and classes.strip().isdigit():
        return int(images), int(classes)
    return None


def parse_standin(spec: str) -> StandIn:
    """`PATH=N:K` (the CLI's --standin-images), or `PATH=` followed by Keras's Found line."""
    path, _, counts = spec.rpartition("=")
    found = parse_counts(counts) if path else None
    if found is None:
        raise ValueError(
            f"expected PATH=N:K (N images in K classes) or PATH=<Keras's Found line>, got {spec!r}"
        )
    return StandIn(path, *found)
