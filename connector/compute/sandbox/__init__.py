"""The local sandbox, the default executor of compute jobs (see `local` for what it isolates).

The rest of the node uses only what this module exposes; the modules inside are its parts.
"""

from connector.compute.sandbox.local import LocalSandbox
from connector.compute.sandbox.probe import machine_cannot

__all__ = ["LocalSandbox", "machine_cannot"]
