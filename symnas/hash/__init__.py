"""Functional hashing, structural hashing and the dedup cache (design in docs/hashing.md).

* :func:`functional_hash` — hash of what a built torch module computes and trains on fixed probe inputs
  (imports torch); :func:`candidate_key` — the dedup key of a whole candidate (module parts and every setting
  training depends on).
* :func:`structural_hash` — canonical hash of a DAG cell (no torch, tens of microseconds).
* :class:`Dedup` — the cache in front of evaluations, with the UFH policies; :class:`MemoryCache` /
  :class:`HashCache` / :class:`Entry` — the cache protocol.

Example::

    >>> from symnas.hash import Dedup, structural_hash
    >>> d = Dedup(key="structural")
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

from symnas.hash.cache import Entry, HashCache, MemoryCache
from symnas.hash.dedup import Dedup, DedupError, functional_key, genome_key, structural_key
from symnas.hash.settings import declare_hidden, hidden_settings
from symnas.hash.structural import StructuralHashError, structural_hash

if TYPE_CHECKING:  # imported lazily by __getattr__ at runtime, so that importing symnas does not import torch
    from symnas.hash.functional import FunctionalHashError, fingerprint, functional_hash, probe_input
    from symnas.hash.key import candidate_key

_LAZY = {"functional_hash", "fingerprint", "probe_input", "FunctionalHashError"}


def __getattr__(name: str) -> Any:  # torch is imported only when the functional hash is used
    if name in _LAZY:
        from symnas.hash import functional

        return getattr(functional, name)
    if name == "candidate_key":
        from symnas.hash.key import candidate_key

        return candidate_key
    raise AttributeError(f"module 'symnas.hash' has no attribute {name!r}")


__all__ = ["functional_hash", "fingerprint", "probe_input", "FunctionalHashError", "structural_hash",
           "StructuralHashError", "Dedup", "DedupError", "Entry", "HashCache", "MemoryCache", "genome_key",
           "structural_key", "functional_key", "candidate_key", "declare_hidden", "hidden_settings"]
