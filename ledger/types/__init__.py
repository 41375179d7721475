"""Blocks, headers, votes, proposals, commits, validator sets and evidence, shaped like
CometBFT's: sign bytes carry the chain id, header hashes are RFC 6962 Merkle roots of the
canonically encoded fields, proposer selection follows CometBFT's weighted priorities.

Every `from_obj` checks shape and sizes so that bytes from a peer either become a well-typed
object or raise `DecodeError`; semantic checks (signatures, heights) live with their users.
One module per kind; import them from here.
"""

from .block import BLOCK_VERSION, HEADER_FIELDS, Block, Header, evidence_hash, txs_hash
from .commit import ABSENT, FLAG_ABSENT, FLAG_COMMIT, FLAG_NIL, Commit, CommitSig
from .evidence import DuplicateVoteEvidence
from .genesis import ConsensusParams, Genesis
from .validators import MAX_TOTAL_VOTING_POWER, PRIORITY_WINDOW_SIZE_FACTOR, Validator, ValidatorSet
from .votes import PRECOMMIT, PREVOTE, PROPOSAL, Proposal, Vote, vote_sign_bytes

__all__ = [
    "ABSENT",
    "BLOCK_VERSION",
    "FLAG_ABSENT",
    "FLAG_COMMIT",
    "FLAG_NIL",
    "HEADER_FIELDS",
    "MAX_TOTAL_VOTING_POWER",
    "PRECOMMIT",
    "PREVOTE",
    "PRIORITY_WINDOW_SIZE_FACTOR",
    "PROPOSAL",
    "Block",
    "Commit",
    "CommitSig",
    "ConsensusParams",
    "DuplicateVoteEvidence",
    "Genesis",
    "Header",
    "Proposal",
    "Validator",
    "ValidatorSet",
    "Vote",
    "evidence_hash",
    "txs_hash",
    "vote_sign_bytes",
]
