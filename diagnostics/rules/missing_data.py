"""missing-data

## What it does
Reports a script that reads a file or folder that is not there when it is probed:
`np.load("data/x.npy")`, `pd.read_csv(...)`, `flow_from_directory("data/train")`,
or a `glob("data/*.jpg")` that quietly finds nothing. It names the path, your line
and the loader, and how to give the probe the data: attach it (an archive or a
folder, shown read-only as the script's working directory) or, for an image folder,
give its counts and let fitprobe generate a stand-in of the same shape.

## Why is this bad?
The script stops with a bare `FileNotFoundError` before a single batch is trained,
or, after an empty glob, with an error far from its cause ("Found 0 images",
"With n_samples=0 ..."). Nothing about the input pipeline can be seen until the
data is there.

## Example
```python
train = ImageDataGenerator(rescale=1 / 255).flow_from_directory(
    "data/train", target_size=(150, 150), batch_size=16
)
model.fit(train, steps_per_epoch=nb_train_samples // 16, epochs=5)
```

## Use instead
Attach the data the script reads, as it lies next to the script (app: a `.zip` or
`.tar.gz` beside the script; CLI: `--data ARCHIVE_OR_DIR`). For an image folder, a
stand-in is enough to see the batch arithmetic: paste Keras's own line, or give the
counts on the command line:
```sh
python -m diagnostics probe train.py --standin-images data/train=2000:2
```
"""

from __future__ import annotations

import re

from diagnostics.packages import IMAGE_FOLDER_LOADERS
from diagnostics.rules.base import Finding, Observations

CODE = "missing-data"
SEVERITY = "error"
TITLE = "the script reads data that is not there"
PRIORITY = 5

IMAGE_FOLDERS = IMAGE_FOLDER_LOADERS | {"DirectoryIterator"}  # Keras's functions, as called
# TensorFlow's own file errors (tf.io.gfile, tf.data readers) say where in the text only.
NOT_FOUND_TEXT = (
    re.compile(r"Could not find directory (\S+)"),
    re.compile(r"(\S+?);? No such file or directory"),
)
NO_MATCH = re.compile(r"No files matched pattern: ([^'\s]+)")  # tf.data.Dataset.list_files
COLAB_DRIVE = "/content/drive"


def _from_exception(exc: dict) -> dict | None:
    """{path, loader, image_folder, line, code} of a file-not-found error, else None."""
    for e in (exc, exc.get("root_cause") or {}):
        path = None
        if e.get("path") and (e.get("type") == "FileNotFoundError" or e.get("errno") == 2):
            path = e["path"]
        elif e.get("type") == "NotFoundError":
            for pattern in NOT_FOUND_TEXT:
                match = pattern.search(e.get("message") or "")
                if match:
                    path = match.group(1).strip("'\"")
                    break
        matched = NO_MATCH.search(e.get("message") or "")
        if path is None and matched:
            return {
                "path": _folder_of(matched.group(1)),
                "pattern": matched.group(1),
                "loader": "tf.data.Dataset.list_files()",
                "image_folder": False,
                "line": e.get("line") or exc.get("line"),
                "code": e.get("code") or exc.get("code"),
            }
        if path is None:
            continue
        callee = e.get("callee") or exc.get("callee") or {}
        loader = (
            f"{callee['package']}'s {callee['function']}()" if callee.get("function") else None
        )
        return {
            "path": path,
            "loader": loader,
            "image_folder": callee.get("function") in IMAGE_FOLDERS,
            "line": e.get("line") or exc.get("line"),
            "code": e.get("code") or exc.get("code"),
        }
    return None


def _folder_of(pattern: str) -> str:
    """The folder part of a glob pattern, before its first wildcard."""
    head = []
    for part in pattern.split("/"):
        if any(c in part for c in "*?["):
            break
        head.append(part)
    return "/".join(head) or "."


def _fix(paths: list[dict]) -> str:
    first = paths[0]["path"]
    if first.startswith(COLAB_DRIVE):
        inside = first.removeprefix(COLAB_DRIVE).strip("/")
        for drive in ("MyDrive/", "My Drive/"):
            inside = inside.removeprefix(drive)
        return (
            f"`{first}` is in your Google Drive in Colab, which a probe cannot reach. Attach "
            "what the script reads from it (a .zip or .tar.gz; CLI: `--data`) and make the "
            f"script's path relative, as it lies in the archive (for example `{inside}`)."
        )
    if first.startswith("/"):
        return (
            f"`{first}` is an absolute path of the machine the script was written on. Attach "
            "the data (a .zip or .tar.gz beside the script; CLI: `--data ARCHIVE_OR_DIR`) and "
            "make the path relative: attached data appears as the script's working directory."
        )
    text = (
        "Attach the data as it lies beside the script (in the app a .zip or .tar.gz next to "
        "the script; on the CLI `--data ARCHIVE_OR_DIR`): it appears, read-only, as the "
        "script's working directory."
    )
    folders = [p["path"] for p in paths if p.get("image_folder")]
    if folders:
        text += (
            f" For the image folder `{folders[0]}`, its counts are enough: paste Keras's line "
            '("Found 2000 images belonging to 2 classes.") into **Stand-in image folders**, or '
            f"on the CLI `--standin-images {folders[0]}=2000:2`, and fitprobe generates a "
            "folder of tiny images of that shape."
        )
    return text


def _finding(obs, stack, call, paths) -> Finding:
    first = paths[0]
    where = obs.where(first.get("line")) if first.get("line") else "your script"
    via = f" with {first['loader']}" if first.get("loader") else ""
    more = f" (and {len(paths) - 1} more)" if len(paths) > 1 else ""
    return Finding(
        code=CODE,
        severity=SEVERITY,
        title=f"the script reads `{first['path']}`{via} ({where}), which is not there{more}",
        evidence={"paths": paths},
        fix=_fix(paths),
        stack=[stack],
        call=call,
        summary={stack: f"the script reads `{first['path']}` ({where}), which is not there"},
        line=first.get("line"),
        priority=PRIORITY,
    )


def _watched(record: dict) -> list[dict]:
    """The folders the script listed or globbed that were not there, and files it read
    that were not (cv2.imread, a dataframe's image files) (see surroundings)."""
    return [
        {
            "path": p["path"],
            "loader": p.get("loader"),
            "image_folder": p.get("loader") == "flow_from_dataframe",
            "line": p.get("line"),
            "code": p.get("code"),
            "pattern": p.get("pattern"),
            **({"missing_files": p["missing_files"], "named": p.get("named")}
               if p.get("missing_files") else {}),  # fmt: skip
        }
        for p in record.get("missing_paths") or []
    ]


def _dataframe_finding(obs, stack, paths) -> Finding:
    p = paths[0]
    where = obs.where(p["line"]) if p.get("line") else "your script"
    return Finding(
        code=CODE,
        severity="warning",
        title=f"{p['missing_files']} of the {p['named']} files a dataframe names under "
        f"`{p['path']}` are not there ({where}): flow_from_dataframe leaves them out",
        evidence={"paths": paths},
        fix=_fix(paths),
        stack=[stack],
        summary={
            stack: f"{p['missing_files']} of the {p['named']} image files the dataframe "
            f"names are not in `{p['path']}`, and training goes on without them"
        },
        line=p.get("line"),
        priority=PRIORITY,
    )


def check(obs: Observations) -> list[Finding]:
    """A missing path the script failed on; a listing, glob or read of a missing one only
    where the script then failed before training (it may well have handled it: a clean-up
    glob of old checkpoints finds nothing, and that is fine); a dataframe's missing image
    files always (Keras trains without them, saying so only in a warning)."""
    found = []
    explained = set()
    for stack, call, exc in obs.failures():
        record = obs.stacks.get(stack) or {}
        hit = _from_exception(exc)
        before_fit = call is None and not record.get("fit_calls")
        watched = [w for w in _watched(record) if before_fit or w["loader"] == "cv2.imread"]
        if hit is None and not watched:
            continue
        paths = ([hit] if hit else []) + [w for w in watched if not hit or w["path"] != hit["path"]]
        explained.add(stack)
        found.append(_finding(obs, stack, call, paths))
    for stack, record in obs.stacks.items():
        dataframes = [w for w in _watched(record) if w.get("missing_files")]
        if stack not in explained and dataframes:
            found.append(_dataframe_finding(obs, stack, dataframes))
    return found
