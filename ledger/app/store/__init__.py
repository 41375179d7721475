"""The application's persistent authenticated key-value store: a versioned sparse Merkle tree
whose root is the app hash, with proofs a light client checks against that root alone."""

from .proof import EMPTY_ROOT, PROOF_TYPE, verify_proof
from .versioned import VersionedStore, VersionNotFound

__all__ = ["EMPTY_ROOT", "PROOF_TYPE", "VersionNotFound", "VersionedStore", "verify_proof"]
