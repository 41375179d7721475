"""A seccomp filter for jobs: system calls no data job needs, refused with EPERM.

Namespaces and dropped capabilities already make most of these fail; the filter keeps the
kernel code behind them (io_uring, bpf, userfaultfd, keyrings, perf, ptrace...) out of a
hostile job's reach altogether, which is where kernel exploits usually start. Only x86_64 is
covered (the numbers differ per architecture); elsewhere jobs run without the filter.
Stdlib only: the launcher imports it without site-packages.
"""

from __future__ import annotations

import ctypes
import errno
import os
import struct

PR_SET_SECCOMP, SECCOMP_MODE_FILTER = 22, 2
_AUDIT_ARCH_X86_64 = 0xC000003E
_X32_BIT = 0x40000000
_LD_ABS, _JEQ, _JGE, _RET = 0x20, 0x15, 0x35, 0x06
_ALLOW, _KILL, _ERRNO = 0x7FFF0000, 0x80000000, 0x00050000

DENIED_X86_64 = {
    "acct": 163, "add_key": 248, "bpf": 321, "clock_settime": 227, "delete_module": 176,
    "finit_module": 313, "fsconfig": 431, "fsmount": 432, "fsopen": 430, "fspick": 433,
    "init_module": 175, "io_uring_enter": 426, "io_uring_register": 427, "io_uring_setup": 425,
    "ioperm": 173, "iopl": 172, "kcmp": 312, "kexec_file_load": 320, "kexec_load": 246,
    "keyctl": 250, "lookup_dcookie": 212, "mount": 165, "mount_setattr": 442, "move_mount": 429,
    "name_to_handle_at": 303, "open_by_handle_at": 304, "open_tree": 428, "perf_event_open": 298,
    "pidfd_getfd": 438, "pivot_root": 155, "process_vm_readv": 310, "process_vm_writev": 311,
    "ptrace": 101, "quotactl": 179, "reboot": 169, "request_key": 249, "setdomainname": 171,
    "sethostname": 170, "setns": 308, "settimeofday": 164, "swapoff": 168, "swapon": 167,
    "syslog": 103, "umount2": 166, "unshare": 272, "userfaultfd": 323, "vhangup": 153,
}  # fmt: skip


def _insn(code: int, jt: int, jf: int, k: int) -> bytes:
    return struct.pack("HBBI", code, jt, jf, k)


def program(denied: dict[str, int]) -> bytes:
    """Wrong architecture: killed; an x32 call or a denied number: EPERM; anything else: run."""
    numbers = sorted(set(denied.values()))
    deny_at = 6 + len(numbers)  # index of the final EPERM instruction, after ALLOW
    insns = [
        _insn(_LD_ABS, 0, 0, 4),  # seccomp_data.arch
        _insn(_JEQ, 1, 0, _AUDIT_ARCH_X86_64),
        _insn(_RET, 0, 0, _KILL),
        _insn(_LD_ABS, 0, 0, 0),  # seccomp_data.nr
        _insn(_JGE, deny_at - 5, 0, _X32_BIT),
    ]
    for i, nr in enumerate(numbers):
        insns.append(_insn(_JEQ, deny_at - (6 + i), 0, nr))
    insns.append(_insn(_RET, 0, 0, _ALLOW))
    insns.append(_insn(_RET, 0, 0, _ERRNO | errno.EPERM))
    return b"".join(insns)


def install(libc: ctypes.CDLL) -> bool:
    """Filter this process and what it starts (needs no_new_privs first); False if unsupported."""
    if os.uname().machine != "x86_64":
        return False
    code = program(DENIED_X86_64)
    buffer = ctypes.create_string_buffer(code, len(code))

    class SockFprog(ctypes.Structure):
        _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.c_void_p)]

    prog = SockFprog(len(code) // 8, ctypes.addressof(buffer))
    if libc.prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, ctypes.byref(prog), 0, 0) != 0:
        err = ctypes.get_errno()
        raise OSError(err, f"seccomp: {os.strerror(err)}")
    return True
