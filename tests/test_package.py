"""The installed namespace package works from anywhere."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import neurosoup.particles as particles

API = [
    "ParticleSpec", "ParticleStore", "ParticleType", "encode_positions", "apply_weightwise",
    "self_apply", "self_train_step", "learn_from_step", "classify", "replication_r2",
    "NeurosoupError", "ConfigError", "ShapeError",
]


def test_import_from_outside_the_repo(tmp_path: Path) -> None:
    code = (
        "import neurosoup.particles as p, pathlib; "
        "print(pathlib.Path(p.__file__).parent.name); "
        "print(p.ParticleSpec().n_weights)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, check=True
    )
    assert out.stdout.split() == ["particles", "14"]


def test_public_api_names() -> None:
    missing = [name for name in API if not hasattr(particles, name)]
    assert not missing
    assert set(API) <= set(particles.__all__)


def test_particle_type_is_one_enum_across_import_paths() -> None:
    from neurosoup.particles.classify import ParticleType

    assert ParticleType is particles.ParticleType
