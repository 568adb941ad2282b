"""The RiboAE ("ribosomal autoencoder"): programs <-> 100-bit genotypes.

A binary autoencoder over token sequences. The encoder (embedding 8 per position -> flatten
-> Linear) gives 100 x 2 logits; a genotype bit is the argmax of its two logits. Like the
reference, it has no nonlinear activation: a first version with ReLU convolutions (embedding
32, three stride-2 convolutions) collapsed to nearly input-independent codes (its initial
input-dependent logit spread, ~0.03, drowned in the Gumbel noise) and reached 36 % token
accuracy in 22 min, against 84 % in 300 steps for this affine encoder.
During training the latent is relaxed with Concrete/Gumbel-softmax at a temperature annealed
from 1 to 0.3 (KL weight 0, as the reference checkpoint). The decoder is affine, as in the
reference: one-hot bits [N, 200] -> token logits [N, L, V] -> argmax per position. For hard bits
this collapses to ``logits = base + bits @ delta``, which is what we ship (float16 arrays in
``data/ribo.npz``) and what ``Ribosome.decode`` computes. The RiboAE is trained once and frozen
during evolution. Training lives in ``ribo_train.py``; regenerate the shipped files with
``neurosoup ribo train`` (see ``data/ribo.json`` for the exact command and seed).
"""

from __future__ import annotations

import json
from functools import lru_cache
from importlib import resources
from pathlib import Path

import numpy as np
import torch
from torch import nn

from neurosoup.particles.errors import ConfigError, ShapeError

from .genotype import N_BITS, check_bits
from .tokens import SEQ_LEN, VOCAB_SIZE, decode_ids, encode_ids

EMBED = 8
DECODE_CHUNK = 2048


class RiboAE(nn.Module):
    """Trainable RiboAE: affine encoder and affine decoder.

    Args:
        seq_len: Token sequence length L (a multiple of 8).
        vocab: Vocabulary size V.
        n_bits: Latent bits (100).
    """

    def __init__(self, seq_len: int = SEQ_LEN, vocab: int = VOCAB_SIZE, n_bits: int = N_BITS):
        super().__init__()
        if seq_len % 8:
            raise ConfigError(f"seq_len must be a multiple of 8, got {seq_len}")
        self.seq_len, self.vocab, self.n_bits = seq_len, vocab, n_bits
        self.embed = nn.Embedding(vocab, EMBED)
        self.to_latent = nn.Linear(EMBED * seq_len, 2 * n_bits)
        self.decoder = nn.Linear(2 * n_bits, seq_len * vocab)

    def encode_logits(self, ids: torch.Tensor) -> torch.Tensor:
        """Latent logits of token ids.

        Args:
            ids: [N, L] int64.

        Returns:
            logits: [N, n_bits, 2]; bit = argmax over the last axis.
        """
        return self.to_latent(self.embed(ids).flatten(1)).view(-1, self.n_bits, 2)

    def decode_onehot(self, onehot: torch.Tensor) -> torch.Tensor:
        """Token logits from (relaxed) one-hot bits.

        Args:
            onehot: [N, n_bits, 2], rows on the simplex.

        Returns:
            logits: [N, L, V].
        """
        return self.decoder(onehot.flatten(1)).view(-1, self.seq_len, self.vocab)

    def forward(self, ids: torch.Tensor, temperature: float, gen: torch.Generator) -> torch.Tensor:
        """Training pass with a Gumbel-softmax latent; returns token logits [N, L, V]."""
        logits = self.encode_logits(ids)
        u = torch.rand(logits.shape, generator=gen).clamp_(1e-6, 1.0 - 1e-6)
        gumbel = -torch.log(-torch.log(u))  # clamp before the logs: no NaN
        return self.decode_onehot(torch.softmax((logits + gumbel) / temperature, dim=-1))

    def export(self) -> dict[str, np.ndarray]:
        """Frozen weights as float16 arrays (affine decoder collapsed to base + delta)."""
        w = self.decoder.weight.detach()  # [L*V, 2*n_bits], column 2i: bit i = 0
        base = self.decoder.bias.detach() + w[:, 0::2].sum(dim=1)
        arrays = {
            "dec_base": base,
            "dec_delta": (w[:, 1::2] - w[:, 0::2]).T.contiguous(),
            **{
                f"enc.{k}": v.detach()
                for k, v in self.state_dict().items()
                if not k.startswith("decoder")
            },
        }
        return {k: v.numpy().astype(np.float16) for k, v in arrays.items()}


class Ribosome:
    """Frozen RiboAE for inference: ``encode(texts) -> bits``, ``decode(bits) -> texts``.

    Args:
        arrays: Weights as written by ``RiboAE.export`` (float16 or float32 arrays).
    """

    def __init__(self, arrays: dict[str, np.ndarray]):
        self.base = torch.from_numpy(arrays["dec_base"].astype(np.float32))
        self.delta = torch.from_numpy(arrays["dec_delta"].astype(np.float32))
        n_bits, lv = self.delta.shape
        self.seq_len = lv // VOCAB_SIZE
        self.n_bits = n_bits
        self._encoder = RiboAE(self.seq_len, VOCAB_SIZE, n_bits)
        state = {
            k[4:]: torch.from_numpy(v.astype(np.float32))
            for k, v in arrays.items()
            if k.startswith("enc.")
        }
        state["decoder.weight"] = torch.zeros(lv, 2 * n_bits)
        state["decoder.bias"] = torch.zeros(lv)
        self._encoder.load_state_dict(state)
        self._encoder.train(False)

    @classmethod
    def load(cls, path: str | Path) -> Ribosome:
        """Load weights from an ``.npz`` of plain arrays (no pickle)."""
        with np.load(path, allow_pickle=False) as f:
            return cls({k: f[k] for k in f.files})

    @torch.no_grad()
    def decode_ids(self, bits: torch.Tensor | np.ndarray) -> np.ndarray:
        """Token ids of genotypes (argmax per position), batched.

        Args:
            bits: [N, 100] genotypes (bool, uint8 or 0/1 floats).

        Returns:
            ids: [N, L] int64.
        """
        b = check_bits(bits).to(torch.float32)
        out = np.empty((b.shape[0], self.seq_len), dtype=np.int64)
        for i in range(0, b.shape[0], DECODE_CHUNK):
            logits = torch.addmm(self.base, b[i : i + DECODE_CHUNK], self.delta)
            out[i : i + DECODE_CHUNK] = logits.view(-1, self.seq_len, VOCAB_SIZE).argmax(-1)
        return out

    def decode(self, bits: torch.Tensor | np.ndarray) -> list[str]:
        """Programs of genotypes ``bits: [N, 100]`` (``<PAD>`` tokens dropped)."""
        return decode_ids(self.decode_ids(bits))

    @torch.no_grad()
    def encode(self, texts: list[str]) -> torch.Tensor:
        """Genotypes of programs, batched.

        Args:
            texts: N programs of at most L tokens in the vocabulary.

        Returns:
            bits: [N, 100] uint8.
        """
        ids = torch.from_numpy(encode_ids(texts, self.seq_len))
        chunks = [
            self._encoder.encode_logits(ids[i : i + DECODE_CHUNK]).argmax(-1)
            for i in range(0, ids.shape[0], DECODE_CHUNK)
        ]
        if not chunks:
            return torch.zeros(0, self.n_bits, dtype=torch.uint8)
        return torch.cat(chunks).to(torch.uint8)


def _data_path(name: str) -> Path:
    return Path(str(resources.files("neurosoup.particles.serann") / "data" / name))


@lru_cache(maxsize=1)
def default_ribosome() -> Ribosome:
    """The shipped, frozen RiboAE (``data/ribo.npz``)."""
    path = _data_path("ribo.npz")
    if not path.exists():
        raise ConfigError(f"shipped RiboAE weights missing at {path}; run `neurosoup ribo train`")
    return Ribosome.load(path)


def ribo_metadata() -> dict[str, object]:
    """Training metadata of the shipped RiboAE (seed, command, time, accuracies)."""
    return json.loads(_data_path("ribo.json").read_text())


def calibrated_ancestor() -> dict[str, object]:
    """The default founder's record (``data/ancestor.json``): hex, program, calibration."""
    return json.loads(_data_path("ancestor.json").read_text())


def corpus_genotypes(held_out: bool | None = None) -> torch.Tensor:
    """The encoded program corpus: genotypes individuals learn to copy.

    Args:
        held_out: ``None`` for all, ``False`` for the training part, ``True`` for held-out.

    Returns:
        bits: [N, 100] uint8.
    """
    with np.load(_data_path("corpus.npz"), allow_pickle=False) as f:
        bits = np.unpackbits(f["packed"], axis=1)[:, :N_BITS]
        mask = f["held_out"]
    if held_out is not None:
        bits = bits[mask == held_out]
    if bits.shape[1] != N_BITS:
        raise ShapeError(f"corpus genotypes have {bits.shape[1]} bits, expected {N_BITS}")
    return torch.from_numpy(np.ascontiguousarray(bits))


__all__ = [
    "RiboAE",
    "Ribosome",
    "calibrated_ancestor",
    "corpus_genotypes",
    "default_ribosome",
    "ribo_metadata",
]
