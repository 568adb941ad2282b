"""SeRANN genotype -> phenotype (science/serann.md).

genotype.py: 100-bit genotypes [N, 100] uint8; pack/unpack, hex, Hamming distance, ancestor.
grammar.py: the Markov-chain program generator (8x8 default, 28x28 preset).
tokens.py: tokeniser, 39 tokens + <PAD>, tokens <-> text.
ribo.py: the frozen RiboAE (affine decoder): encode(texts) -> bits, decode(bits) -> texts.
ribo_train.py: RiboAE training and genotype-phenotype map statistics (CLI: scenarios/cli_ribo.py).
ir.py: the typed IR (nodes, static Keras shape rules, parameter counts), ``Death``.
program.py: the whitelist ``ast`` interpreter: program text -> ProgramIR | Death, never raises.
model.py: torch phenotype built from an IR (+ classification and copy heads), ``signature``.
"""

from .genotype import N_BITS, ancestor, check_bits, from_hex, hamming, pack, to_hex, unpack
from .grammar import GrammarConfig, generate_corpus, generate_program
from .ir import Death, ProgramIR
from .model import SerannNet, build, signature
from .program import interpret
from .tokens import VOCAB, text_to_tokens, tokens_to_text

_LAZY = {"Ribosome", "corpus_genotypes", "default_ribosome"}


def __getattr__(name: str) -> object:
    """Import ``ribo`` on first use, so ``python -m ...serann.ribo`` runs it only once."""
    if name in _LAZY:
        from . import ribo

        return getattr(ribo, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "N_BITS",
    "VOCAB",
    "Death",
    "GrammarConfig",
    "ProgramIR",
    "Ribosome",
    "SerannNet",
    "ancestor",
    "build",
    "check_bits",
    "corpus_genotypes",
    "default_ribosome",
    "from_hex",
    "generate_corpus",
    "generate_program",
    "hamming",
    "interpret",
    "pack",
    "signature",
    "text_to_tokens",
    "to_hex",
    "tokens_to_text",
    "unpack",
]
