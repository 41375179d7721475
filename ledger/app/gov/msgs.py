"""Governance messages people sign, their wire forms and stateless checks:

  {"type": "gov/submit_proposal", "proposer": addr, "messages": [wire msg, ...],
   "initial_deposit": int >= 0, "title": str, "summary": str, "metadata": str}
  {"type": "gov/deposit", "proposal_id": int, "depositor": addr, "amount": int > 0}
  {"type": "gov/vote", "proposal_id": int, "voter": addr, "option": "yes"|"abstain"|"no"|"no_with_veto"}
  {"type": "gov/vote_weighted", "proposal_id": int, "voter": addr,
   "options": [{"option": str, "weight": ppm}, ...]}          weights > 0, summing to 10^6

A proposal's messages are parsed with `ledger.app.msgs.parse`; each must have the gov module
account as its signer (its authority) and spend nothing from it (the deposits it holds are not
governance's to spend); proposals cannot nest governance's own user messages."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from .. import msgs, wire
from ..errors import INVALID_REQUEST, TX_DECODE, UNAUTHORIZED, AppError
from ..params import PPM, Params
from .store import OPTION_NAMES, OPTIONS

MAX_TITLE, MAX_SUMMARY, MAX_METADATA, MAX_MESSAGES = 255, 10_000, 255, 16
USER_TYPES = ("gov/submit_proposal", "gov/deposit", "gov/vote", "gov/vote_weighted")


@dataclass(frozen=True)
class MsgSubmitProposal(wire.Message):
    proposer: bytes
    messages: tuple[msgs.Msg, ...]
    initial_deposit: int
    title: str
    summary: str
    metadata: str
    type: ClassVar[str] = "gov/submit_proposal"

    @property
    def signer(self) -> bytes:
        return self.proposer

    def spend(self) -> int:
        return self.initial_deposit

    def gas(self, params: Params) -> int:
        return params.gas[self.type] + params.gas["gov/proposal_message"] * len(self.messages)

    def to_obj(self) -> dict[str, Any]:
        return {"type": self.type, "proposer": self.proposer,
                "messages": [m.to_obj() for m in self.messages],
                "initial_deposit": self.initial_deposit, "title": self.title,
                "summary": self.summary, "metadata": self.metadata}


@dataclass(frozen=True)
class MsgDeposit(wire.Message):
    proposal_id: int
    depositor: bytes
    amount: int
    type: ClassVar[str] = "gov/deposit"

    @property
    def signer(self) -> bytes:
        return self.depositor

    def spend(self) -> int:
        return self.amount

    def to_obj(self) -> dict[str, Any]:
        return {"type": self.type, "proposal_id": self.proposal_id, "depositor": self.depositor,
                "amount": self.amount}


@dataclass(frozen=True)
class MsgVote(wire.Message):
    """A plain vote and a weighted vote are one model: (option, weight ppm) pairs."""

    proposal_id: int
    voter: bytes
    options: tuple[tuple[int, int], ...]
    type: ClassVar[str] = "gov/vote"

    @property
    def signer(self) -> bytes:
        return self.voter

    def to_obj(self) -> dict[str, Any]:
        return {"type": self.type, "proposal_id": self.proposal_id, "voter": self.voter,
                "option": OPTION_NAMES[self.options[0][0]]}


@dataclass(frozen=True)
class MsgVoteWeighted(MsgVote):
    type: ClassVar[str] = "gov/vote_weighted"

    def to_obj(self) -> dict[str, Any]:
        return {"type": self.type, "proposal_id": self.proposal_id, "voter": self.voter,
                "options": [{"option": OPTION_NAMES[o], "weight": w} for o, w in self.options]}


def _inner(i: int, d: Any) -> msgs.Msg:
    m = msgs.parse(d)
    if m.type in USER_TYPES:
        raise AppError(INVALID_REQUEST, f"message {i} of the proposal is a {m.type}, "
                                        f"which a proposal cannot carry")
    if m.signer != wire.gov_account():
        raise AppError(UNAUTHORIZED, f"message {i} of the proposal must have the gov module "
                                     f"account as its authority")
    if m.spend():
        raise AppError(UNAUTHORIZED, f"message {i} of the proposal would spend the deposits "
                                     f"held by the gov module account")
    return m


def parse_submit(d: dict[str, Any]) -> MsgSubmitProposal:
    wire.fields(d, {"type", "proposer", "messages", "initial_deposit", "title", "summary",
                    "metadata"})
    raw = d["messages"]
    if not isinstance(raw, list):
        raise AppError(TX_DECODE, "messages must be a list")
    if len(raw) > MAX_MESSAGES:
        raise AppError(INVALID_REQUEST, f"a proposal carries at most {MAX_MESSAGES} messages")
    return MsgSubmitProposal(
        wire.addr(d["proposer"], "proposer"), tuple(_inner(i, m) for i, m in enumerate(raw, 1)),
        wire.uint(d["initial_deposit"], "initial_deposit"),
        wire.text(d["title"], "the title", MAX_TITLE, required=True),
        wire.text(d["summary"], "the summary", MAX_SUMMARY, required=True),
        wire.text(d["metadata"], "the metadata", MAX_METADATA))


def _pid(v: Any) -> int:
    pid = wire.uint(v, "proposal_id", positive=True)
    if pid >= 1 << 63:  # proposal ids are 8-byte store keys
        raise AppError(INVALID_REQUEST, "proposal_id must be below 2^63")
    return pid


def parse_deposit(d: dict[str, Any]) -> MsgDeposit:
    wire.fields(d, {"type", "proposal_id", "depositor", "amount"})
    return MsgDeposit(_pid(d["proposal_id"]), wire.addr(d["depositor"], "depositor"),
                      wire.uint(d["amount"], "the deposit", positive=True))


def _option(v: Any) -> int:
    if not isinstance(v, str) or v not in OPTIONS:
        raise AppError(INVALID_REQUEST, "a vote option is one of yes, abstain, no, no_with_veto")
    return OPTIONS[v]


def parse_vote(d: dict[str, Any]) -> MsgVote:
    wire.fields(d, {"type", "proposal_id", "voter", "option"})
    return MsgVote(_pid(d["proposal_id"]), wire.addr(d["voter"], "voter"),
                   ((_option(d["option"]), PPM),))


def parse_vote_weighted(d: dict[str, Any]) -> MsgVoteWeighted:
    wire.fields(d, {"type", "proposal_id", "voter", "options"})
    raw = d["options"]
    if not isinstance(raw, list) or not 1 <= len(raw) <= len(OPTIONS):
        raise AppError(INVALID_REQUEST, "a weighted vote has 1 to 4 options")
    opts: list[tuple[int, int]] = []
    for e in raw:
        if not isinstance(e, dict) or set(e) != {"option", "weight"}:
            raise AppError(TX_DECODE, "each weighted option is an object with option and weight")
        opts.append((_option(e["option"]), wire.uint(e["weight"], "a weight", positive=True)))
    if len({o for o, _ in opts}) != len(opts):
        raise AppError(INVALID_REQUEST, "a weighted vote names each option at most once")
    total = sum(w for _, w in opts)
    if total != PPM:
        raise AppError(INVALID_REQUEST, f"the weights of a vote must sum to {PPM} ppm, not {total}")
    return MsgVoteWeighted(_pid(d["proposal_id"]), wire.addr(d["voter"], "voter"), tuple(opts))


def no_check(m: msgs.Msg) -> None:
    """User messages have no stateless check beyond their parsing."""
