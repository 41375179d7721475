"""The sandbox launcher: runs as `python -I -S launcher.py CONFIG` and starts one job.

Isolated mode: started by `unshare --user --net --mount --pid --ipc --uts --fork` it is the
init (pid 1) of fresh namespaces. It tells the node it is up, waits until the node has written
its uid/gid maps, builds a new root on a tmpfs (read-only binds of the interpreter, the dataset
at /input, a capped tmpfs at /output and /tmp), pivots into it, detaches the host's root, then
forks the job: no capabilities, an unprivileged uid, rlimits, no new privileges, a seccomp
filter, an empty environment. While it runs, its CPU time and memory are summed over all its processes every
0.1 s (rlimits bind each process alone). When the job ends, or a limit of the whole job is
reached, every process of the namespace is killed, the output is checked and copied out, and
a report goes back to the node.

Unisolated mode (only if the operator allowed it): the same job under rlimits, the seccomp
filter and an empty environment, without namespaces; a root node drops it to an unused uid and
hands it its folders as open descriptors (3: input, 4: output, 5: its own files).

Kept to builtins and a few stdlib modules (no json, no signal/enum) so that it starts fast.
The config and the report are marshal-encoded dicts: both ends are our own code.
"""

import _signal
import ctypes
import marshal
import os
import resource
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from output import MAX_ENTRIES, OutputRefused, collect  # noqa: E402  (path set above)
from seccomp import install as install_seccomp  # noqa: E402
from usage import Usage  # noqa: E402

MS_RDONLY, MS_NOSUID, MS_NODEV, MS_NOEXEC = 1, 2, 4, 8
MS_REMOUNT, MS_BIND, MS_REC, MS_PRIVATE = 32, 4096, 16384, 1 << 18
MNT_DETACH = 2
PR_SET_PDEATHSIG, PR_SET_DUMPABLE, PR_CAPBSET_DROP, PR_SET_NO_NEW_PRIVS = 1, 4, 24, 38
_SYSCALLS = {"x86_64": (155, 126, 250), "aarch64": (41, 91, 219)}  # pivot_root, capset, keyctl
KEYCTL_JOIN_SESSION_KEYRING = 1
HOSTNAME = b"communs-job"

_libc = ctypes.CDLL(None, use_errno=True)


def _check(result: int, what: str) -> None:
    if result != 0:
        err = ctypes.get_errno()
        raise OSError(err, f"{what}: {os.strerror(err)}")


def mount(src: str, target: str, fstype: str | None, flags: int, data: str | None = None) -> None:
    enc = [None if v is None else v.encode() for v in (src, target, fstype, data)]
    _check(_libc.mount(enc[0], enc[1], enc[2], ctypes.c_ulong(flags), enc[3]), f"mount {target}")


def _locked_flags(path: str) -> int:
    # A bind remount must keep the flags the host mount already has, or the kernel refuses it.
    f = os.statvfs(path).f_flag
    return (f & (MS_NOSUID | MS_NODEV | MS_NOEXEC)) | MS_NOSUID


def bind(src: str, target: str, writable: bool = False) -> None:
    mount(src, target, None, MS_BIND | MS_REC)
    flags = MS_REMOUNT | MS_BIND | _locked_flags(src) | (0 if writable else MS_RDONLY)
    mount("none", target, None, flags)


def _syscall(index: int) -> int:
    return _SYSCALLS[os.uname().machine][index]


def build_root(cfg: dict) -> int | None:
    """Mount the job's world on cfg['root'] (a host folder), pivot into it; return our proc."""
    root = cfg["root"]
    _libc.sethostname(HOSTNAME, len(HOSTNAME))  # not the host's name
    mount("none", "/", None, MS_REC | MS_PRIVATE)
    size = (1 << 20) + sum(len(data) for data in cfg["files"].values())  # the job's files, and room
    mount("tmpfs", root, "tmpfs", MS_NOSUID | MS_NODEV, f"size={size},nr_inodes=4096,mode=755")
    proc_fd = private_proc(root + "/proc")
    for link, target in cfg["links"]:
        os.symlink(target, root + link)
    for src, dst in cfg["binds"]:
        os.makedirs(root + dst, 0o755, exist_ok=True)
        bind(src, root + dst)
    for dst in cfg["hide"]:  # folders under a bind we do not want seen (site-packages)
        mount("tmpfs", root + dst, "tmpfs", MS_NOSUID | MS_NODEV | MS_RDONLY, "size=4k,mode=755")
    os.makedirs(root + "/dev", 0o755)
    for dev in ("null", "zero", "random", "urandom"):
        open(root + "/dev/" + dev, "wb").close()
        mount("/dev/" + dev, root + "/dev/" + dev, None, MS_BIND)
    os.makedirs(root + "/input", 0o755)
    bind(cfg["input"], root + "/input")
    ids = "uid={0},gid={0}".format(cfg["job_uid"])
    limits = cfg["limits"]
    # The output's tmpfs leaves room for a page per file beyond the cap, which is checked on
    # the files' sizes afterwards; running it full is the sign of a job writing past its cap.
    room = limits["output_bytes"] + 4096 * (MAX_ENTRIES + 16)
    for name, size, mode in (("output", room, "755"), ("tmp", limits["tmp_bytes"], "700")):
        os.makedirs(root + "/" + name, 0o755)
        opts = f"size={max(size, 4096)},nr_inodes={MAX_ENTRIES + 16},mode={mode},{ids}"
        mount("tmpfs", root + "/" + name, "tmpfs", MS_NOSUID | MS_NODEV, opts)
    os.makedirs(root + "/job", 0o755)
    for dst, data in cfg["files"].items():
        with open(root + dst, "wb") as f:
            f.write(data)
    os.chdir(root)
    _check(_libc.syscall(_syscall(0), b".", b"."), "pivot_root")
    _check(_libc.umount2(b".", MNT_DETACH), "detach the host root")
    os.chdir("/")
    mount("none", "/", None, MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID | MS_NODEV)
    return proc_fd


def private_proc(where: str) -> int | None:
    """A proc of the job's pid namespace that only we hold (an open folder, detached at once).

    Through it we forbid user namespaces below ours, so that the job cannot regain
    capabilities anywhere (the limit belongs to our user namespace and only its root may set
    it), and we watch the job's total usage. Best effort: a kernel that refuses leaves the job
    without capabilities all the same, under its per-process rlimits.
    """
    os.mkdir(where)
    fd = None
    try:
        mount("proc", where, "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC)
        try:
            with open(where + "/sys/user/max_user_namespaces", "w") as f:
                f.write("0")
            fd = os.open(where, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
        finally:
            _check(_libc.umount2(where.encode(), MNT_DETACH), "unmount proc")
    except OSError:
        pass
    os.rmdir(where)
    return fd


def drop_privileges(cfg: dict) -> None:
    """In the job's child: no capabilities, the job's uid, no new privileges, rlimits."""
    limits = cfg["limits"]
    if cfg["isolated"]:
        for cap in range(64):
            if _libc.prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) != 0:
                break  # past the last capability this kernel knows
        uid = cfg["job_uid"]
        if uid != 0:  # a node that is not root runs jobs as itself, with setgroups denied
            os.setgroups([])
        os.setresgid(uid, uid, uid)
        os.setresuid(uid, uid, uid)
        # Leaving uid 0 clears the capabilities; if the job stays uid 0 (node not root), clear them.
        header = (ctypes.c_uint32 * 2)(0x20080522, 0)
        data = (ctypes.c_uint32 * 6)()
        _check(_libc.syscall(_syscall(1), header, data), "capset")
        _libc.syscall(_syscall(2), KEYCTL_JOIN_SESSION_KEYRING, None)  # not the node's keyring
    elif cfg.get("drop_to") is not None:  # unisolated, the node root: an unused uid all the same
        uid = cfg["drop_to"]
        os.setgroups([])
        os.setresgid(uid, uid, uid)
        os.setresuid(uid, uid, uid)
    _check(_libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0), "no_new_privs")
    cpu = limits["cpu_seconds"]
    for res, value in (
        (resource.RLIMIT_CPU, (cpu, cpu + 1)),
        (resource.RLIMIT_AS, (limits["memory_bytes"],) * 2),
        (resource.RLIMIT_NPROC, (cfg["nproc"],) * 2),
        (resource.RLIMIT_FSIZE, (limits["file_bytes"],) * 2),
        (resource.RLIMIT_NOFILE, (limits["open_files"],) * 2),
        (resource.RLIMIT_CORE, (0, 0)),
        (resource.RLIMIT_MEMLOCK, (0, 0)),
    ):
        resource.setrlimit(res, value)
    install_seccomp(_libc)  # last: it refuses what we needed above


def hand_over(folders: list) -> int:
    """The folders as descriptors 3, 4, 5...: an unprivileged uid reaches them through
    /proc/self/fd without walking the host paths above them. Returns the first fd not kept."""
    high = []
    for i, path in enumerate(folders):
        fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
        os.dup2(fd, 100 + i)
        os.close(fd)
        high.append(100 + i)
    for i, fd in enumerate(high):
        os.dup2(fd, 3 + i)
    return 3 + len(folders)


def start_job(cfg: dict) -> int:
    pid = os.fork()
    if pid:
        return pid
    try:
        if not cfg["isolated"]:
            os.setsid()  # one process group, so the whole job can be killed at the end
            _libc.prctl(PR_SET_PDEATHSIG, 9, 0, 0, 0)  # and it dies with us
        os.chdir(cfg["cwd"])
        keep = hand_over(cfg.get("pass_dirs", []))
        drop_privileges(cfg)
        os.closerange(keep, 1 << 16)
        os.execve(cfg["python"], cfg["argv"], cfg["env"])
    except BaseException as exc:  # the job could not start: say why on its log, never return
        os.write(2, f"sandbox: the job could not start: {exc}\n".encode())
    os._exit(127)


class _Stop(Exception):
    """The whole job must stop: 'wall', 'cpu', 'memory' (a limit) or 'cancel' (the node)."""


_cancel = {"asked": False, "armed": False}  # SIGTERM from the node: stop the job cleanly


def _on_term(signum: int, frame: object) -> None:
    _cancel["asked"] = True
    if _cancel["armed"]:
        raise _Stop("cancel")


def wait_job(cfg: dict, pid: int, usage: Usage | None) -> dict:
    """Wait for the job (reaping orphans, as init must) while checking its limits."""
    limits = cfg["limits"]
    start = time.monotonic()
    deadline = start + limits["wall_seconds"]
    report: dict = {"stopped": None, "exit_code": None, "signal": None}
    armed = [True]  # a tick already pending when we disarm must not stop the job afterwards

    def tick(signum: int, frame: object) -> None:
        if not armed[0]:
            return
        if _cancel["asked"]:
            raise _Stop("cancel")
        if time.monotonic() >= deadline:
            raise _Stop("wall")
        if usage is not None:
            cpu, memory = usage.cpu_and_memory()
            if cpu > limits["cpu_seconds"]:
                raise _Stop("cpu")
            if memory > limits["memory_bytes"]:
                raise _Stop("memory")

    _signal.signal(_signal.SIGALRM, tick)
    every = min(0.1, limits["wall_seconds"])
    _signal.setitimer(_signal.ITIMER_REAL, every, every)
    status = None
    try:
        _cancel["armed"] = True
        if _cancel["asked"]:  # it came during the setup
            raise _Stop("cancel")
        while status is None:
            got, status_now, _ = os.wait4(-1, 0)
            if got == pid:
                status = status_now
    except _Stop as stop:
        report["stopped"] = stop.args[0]
    finally:
        armed[0] = _cancel["armed"] = False
        _signal.setitimer(_signal.ITIMER_REAL, 0)
    report["wall"] = time.monotonic() - start
    _kill_rest(cfg, pid)
    if status is not None:
        if os.WIFSIGNALED(status):
            report["signal"] = os.WTERMSIG(status)
        else:
            report["exit_code"] = os.WEXITSTATUS(status)
    usage_now = resource.getrusage(resource.RUSAGE_CHILDREN)
    report["cpu"] = usage_now.ru_utime + usage_now.ru_stime
    report["rss"] = usage_now.ru_maxrss * 1024
    return report


def _kill_rest(cfg: dict, pid: int) -> None:
    try:
        if cfg["isolated"]:
            os.kill(-1, 9)  # as pid 1: every other process of the namespace
        else:
            os.killpg(pid, 9)
    except ProcessLookupError:
        pass
    while True:
        try:
            os.wait4(-1, 0)
        except ChildProcessError:
            return


def ship_output(cfg: dict, out_fd: int, report: dict) -> None:
    """Check the job's /output and copy it to the node's folder; only after a clean exit."""
    fs = os.statvfs("/output")
    report["output_full"] = fs.f_bavail * fs.f_frsize < 4096 or fs.f_favail == 0
    if report["stopped"] or report["exit_code"] != 0:
        return
    cap = cfg["limits"]["output_bytes"]
    try:
        collect("/output", None, cap)
        report["output_bytes"] = collect("/output", out_fd, cap)
    except OutputRefused as exc:
        report["refused"], report["refused_at"] = str(exc), exc.path
        report["output_full"] = exc.over_cap


def main() -> None:
    os.umask(0o022)  # what we create in the job's root must be readable by the job
    _signal.signal(_signal.SIGTERM, _on_term)
    with open(sys.argv[1], "rb") as f:
        cfg = marshal.load(f)
    up = cfg["up"]
    report: dict = {}
    try:
        if cfg["isolated"]:
            _libc.prctl(PR_SET_DUMPABLE, 0, 0, 0, 0)  # the job may not ptrace us
            os.write(up, b"R")
            if os.read(cfg["down"], 1) != b"G":  # the node has written our uid/gid maps
                os._exit(1)
            out_fd = os.open(cfg["out"], os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
            proc_fd = build_root(cfg)
        pid = start_job(cfg)
        usage = Usage(proc_fd) if cfg["isolated"] and proc_fd is not None else None
        report.update(wait_job(cfg, pid, usage))
        if cfg["isolated"]:
            ship_output(cfg, out_fd, report)
    except Exception as exc:  # a setup failure is reported, never a traceback on the job's log
        report["setup_error"] = f"{type(exc).__name__}: {exc}"
    os.write(up, b"D" + marshal.dumps(report))
    os._exit(0)


if __name__ == "__main__":
    main()
