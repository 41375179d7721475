"""Round timeouts that grow linearly with the round, as the paper requires for liveness after
GST: eventually a timeout exceeds the message delay and correct processes line up."""

from __future__ import annotations

from dataclasses import dataclass

PROPOSE, PREVOTE, PRECOMMIT = "propose", "prevote", "precommit"


@dataclass(frozen=True)
class TimeoutConfig:
    propose: int = 3000  # milliseconds, as CometBFT's defaults
    propose_delta: int = 500
    prevote: int = 1000
    prevote_delta: int = 500
    precommit: int = 1000
    precommit_delta: int = 500
    commit: int = 1000  # wait after a decision, to collect late precommits and pace blocks

    def duration(self, kind: str, round_: int) -> int:
        if kind == PROPOSE:
            return self.propose + self.propose_delta * round_
        if kind == PREVOTE:
            return self.prevote + self.prevote_delta * round_
        if kind == PRECOMMIT:
            return self.precommit + self.precommit_delta * round_
        raise ValueError(kind)

    @classmethod
    def fast(cls) -> TimeoutConfig:
        """For tests, the simulator and the loopback bench (messages take milliseconds)."""
        return cls(300, 100, 100, 100, 100, 100, 50)
