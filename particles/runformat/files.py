"""Opening and checking run files: one ``SnapshotError`` line saying why a file cannot be read.

``open_h5`` tells missing, foreign, truncated, locked and damaged files apart; ``check_root``,
``read_spec`` and ``verify`` check an open file's root attributes, spec and every object.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from ..errors import SnapshotError
from .common import (
    ATTR_FORMAT,
    ATTR_KIND,
    ATTR_VERSION,
    EVALUATION_ATTR,
    FORMAT,
    FORMAT_VERSION,
    SPEC,
)

_HDF5_SIGNATURE = b"\x89HDF\r\n\x1a\n"


def _has_signature(path: Path) -> bool:
    """True if an HDF5 superblock signature sits at 0, 512, 1024, … (the spec's offsets)."""
    size = path.stat().st_size
    with path.open("rb") as fh:
        offset = 0
        while offset + 8 <= size:
            fh.seek(offset)
            if fh.read(8) == _HDF5_SIGNATURE:
                return True
            offset = 512 if offset == 0 else offset * 2
    return False


def open_h5(path: str | Path, mode: str = "r") -> Any:
    """Open an HDF5 file, or raise one ``SnapshotError`` line saying why it cannot be.

    Tells apart: a missing file, a file that is not HDF5 at all (foreign), a truncated file
    (a run killed before its first flush, or a partial copy), a file another process holds
    locked (a run still writing it) and any other damage.
    """
    import h5py  # only the functions that touch files need h5py

    path = Path(path)
    if not path.is_file():
        raise SnapshotError(f"{path}: no such file; check the path of the run file")
    if not _has_signature(path):
        raise SnapshotError(
            f"{path}: not an HDF5 file (no HDF5 signature), so not a neurosoup run; pass a file "
            "written by `neurosoup run --out`"
        )
    try:
        return h5py.File(path, mode)
    except OSError as exc:
        text = str(exc)
        if "truncated file" in text:
            raise SnapshotError(
                f"{path}: truncated (the file is shorter than HDF5 says it must be: a run killed "
                "before its first flush, or an incomplete copy); copy it again or re-run"
            ) from None
        if "unable to lock file" in text or getattr(exc, "errno", None) == 11:
            raise SnapshotError(
                f"{path}: locked by another process (a run still writing it?); wait for it to "
                "finish, or analyse a copy of the file"
            ) from None
        raise SnapshotError(
            f"{path}: damaged HDF5 file ({text.split('(')[-1].rstrip(')') or text}); restore it "
            "from a copy or re-run the scenario"
        ) from None


def check_root(file: Any, path: str | Path) -> tuple[int, str]:
    """Check the root attributes of an open run file; returns (format_version, kind)."""
    attrs = file.attrs
    fmt = attrs.get(ATTR_FORMAT)
    fmt = fmt.decode() if isinstance(fmt, bytes) else fmt
    if fmt != FORMAT and EVALUATION_ATTR in attrs:
        raise SnapshotError(
            f"{path} is a `neurosoup evaluate` file, not a run; read it with "
            "neurosoup.analysis.evolution.read_evaluation (epistasis: analysis.epistasis)"
        )
    if fmt != FORMAT:
        raise SnapshotError(
            f"{path}: an HDF5 file but not a neurosoup run (root attribute format={fmt!r}, "
            f"expected {FORMAT!r}); pass a file written by `neurosoup run --out`"
        )
    version = attrs.get(ATTR_VERSION)
    if version is None:
        raise SnapshotError(
            f"{path}: group / is damaged (no format_version attribute); re-run the scenario"
        )
    if int(version) > FORMAT_VERSION:
        raise SnapshotError(
            f"{path}: run file format_version {int(version)} is newer than this neurosoup "
            f"(knows <= {FORMAT_VERSION}); upgrade neurosoup to read it"
        )
    kind = attrs.get(ATTR_KIND, "soup")
    return int(version), kind.decode() if isinstance(kind, bytes) else str(kind)


def verify(file: Any, path: str | Path) -> None:
    """Read every object of an open run file; the first damaged group is a ``SnapshotError``.

    Damage: a header that does not load, a chunk whose checksum fails, a bad attribute.

    Run files carry fletcher32 checksums on every chunked dataset, so a flipped bit in data is
    found here too; files written before that only show damage HDF5 itself notices.
    """
    stack: list[tuple[str, Any]] = [("/", file)]
    while stack:
        name, group = stack.pop()
        try:
            dict(group.attrs)
            members = list(group.keys())
        except (OSError, KeyError, ValueError, RuntimeError, TypeError) as exc:
            raise _damaged(path, name, exc) from None
        for key in members:
            where = f"{name.rstrip('/')}/{key}"
            try:
                obj = group[key]
                dict(obj.attrs)
                if hasattr(obj, "keys"):
                    stack.append((where, obj))
                    continue
                if obj.shape is None or obj.size == 0:
                    continue
                if obj.ndim == 0:
                    obj[()]
                    continue
                row_bytes = obj.dtype.itemsize * (obj.size // obj.shape[0])
                rows = max(1, (16 << 20) // max(1, row_bytes))  # read 16 MB at a time
                for start in range(0, obj.shape[0], rows):
                    obj[start : start + rows]
            except (OSError, KeyError, ValueError, RuntimeError, TypeError) as exc:
                raise _damaged(path, where.rsplit("/", 1)[0] or "/", exc) from None


def _damaged(path: str | Path, group: str, exc: BaseException) -> SnapshotError:
    text = str(exc).split("(")[-1].rstrip(")") if "(" in str(exc) else str(exc)
    return SnapshotError(
        f"{path}: group {group} is damaged ({text or type(exc).__name__}); restore the file "
        "from a copy or re-run the scenario"
    )


def read_spec(file: Any, path: str | Path) -> dict[str, Any]:
    """The JSON spec of an open run file (``/parameters/spec``), checked to be an object."""
    if SPEC not in file:
        raise SnapshotError(f"{path}: group /{SPEC} is damaged (missing); re-run the scenario")
    try:
        raw = file[SPEC][()]
        spec = json.loads(raw.decode() if isinstance(raw, bytes) else str(raw))
    except (OSError, ValueError) as exc:
        raise SnapshotError(
            f"{path}: group /{SPEC} is damaged (not JSON: {exc}); re-run the scenario"
        ) from None
    if not isinstance(spec, dict):
        raise SnapshotError(f"{path}: group /{SPEC} is damaged (JSON is not an object)")
    root = file.attrs.get(ATTR_KIND)
    root = root.decode() if isinstance(root, bytes) else root
    if root is not None and "kind" in spec and spec["kind"] != root:
        raise SnapshotError(
            f"{path}: group / is damaged (root attribute kind={root!r} but /{SPEC} says "
            f"{spec['kind']!r}); restore the file from a copy or re-run the scenario"
        )
    return spec


