"""A real single-node Slurm cluster on this machine, for tests and CI.

Brings up Debian's munged, slurmctld and slurmd on loopback (installed with apt-get when
missing): two partitions (`cpu`, the default, and `gpu`) on one node `localhost` with a
counted `gpu` resource backed by character-device files, no accounting daemon and no
cgroups (DESIGN.md section 12). The daemons' PIDs are recorded in the state folder, and
`down` stops exactly those processes.

    python tests/slurm/cluster.py up /tmp/slurm      # prints the state folder when idle
    sinfo; sbatch --wrap hostname
    python tests/slurm/cluster.py down /tmp/slurm

Writes /etc/slurm/slurm.conf and gres.conf (the job-step plugin strips SLURM_CONF, so
they must be there), marked as ours; refuses to touch a configuration it did not write,
and `down` removes them again.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

log = logging.getLogger("slurm-cluster")

PACKAGES = ("slurmctld", "slurmd", "slurm-client", "munge")
COMMANDS = ("slurmctld", "slurmd", "sbatch", "squeue", "sinfo", "scontrol", "munged", "munge")
ETC = Path("/etc/slurm")
MARKER = "# written by dart tests/slurm/cluster.py"
NODE = "localhost"
GPUS = 2
NODE_MEMORY_MB = 256_000


class Unavailable(RuntimeError):
    """Slurm cannot be brought up on this machine; the message says why."""


@dataclass
class Cluster:
    """A running cluster: its state folder and the PIDs of the daemons we started."""

    state: Path
    pids: dict[str, int] = field(default_factory=dict)

    @property
    def pid_file(self) -> Path:
        return self.state / "pids.json"

    def save(self) -> None:
        self.pid_file.write_text(json.dumps(self.pids, indent=1))

    @classmethod
    def load(cls, state: Path) -> Cluster:
        pid_file = state / "pids.json"
        pids = json.loads(pid_file.read_text()) if pid_file.exists() else {}
        return cls(state=state, pids=pids)


def _run(*cmd: str, check: bool = True, timeout: float = 60) -> subprocess.CompletedProcess:
    return subprocess.run(cmd, capture_output=True, text=True, check=check, timeout=timeout)


def ensure_packages() -> None:
    """Install the Slurm and munge packages when a command is missing (needs root + apt)."""
    missing = [c for c in COMMANDS if not shutil.which(c, path=_sbin_path())]
    if not missing:
        return
    if os.geteuid() != 0 or not shutil.which("apt-get"):
        raise Unavailable(f"Slurm commands {missing} are missing and apt-get as root is not here")
    install = ["apt-get", "install", "-y", "-qq", "--no-install-recommends", *PACKAGES]
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    log.info("installing %s", " ".join(PACKAGES))
    proc = subprocess.run(install, capture_output=True, text=True, env=env, timeout=900)
    if proc.returncode != 0:  # a stale package list: update once, then try again
        subprocess.run(["apt-get", "update", "-qq"], capture_output=True, env=env, timeout=600)
        proc = subprocess.run(install, capture_output=True, text=True, env=env, timeout=900)
    if proc.returncode != 0:
        raise Unavailable(f"apt-get install {' '.join(PACKAGES)} failed: {proc.stderr[-800:]}")


def _sbin_path() -> str:
    return os.pathsep.join([os.environ.get("PATH", ""), "/usr/sbin", "/sbin"])


def _exe(name: str) -> str:
    return shutil.which(name, path=_sbin_path()) or name


def slurm_conf(state: Path, cpus: int) -> str:
    """The cluster's slurm.conf: loopback, no accounting, no cgroups, a counted gpu gres.

    The node has this machine's CPUs, and says it has NODE_MEMORY_MB of memory (more than
    is here; `config_overrides` lets slurmd accept that): like its GPUs, it is a stand-in
    for a cluster node, so that the profile's real per-rule memory requests (tens of GB)
    are schedulable. CR_Core does not consume memory and nothing enforces it.
    """
    return f"""{MARKER}
ClusterName=dart-test
SlurmctldHost=localhost(127.0.0.1)
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
StateSaveLocation={state}/ctld
SlurmdSpoolDir={state}/d
SlurmctldPidFile={state}/slurmctld.pid
SlurmdPidFile={state}/slurmd.pid
SlurmctldLogFile={state}/slurmctld.log
SlurmdLogFile={state}/slurmd.log
SlurmctldDebug=info
SlurmdDebug=info
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
MpiDefault=none
MailProg=/bin/true
ReturnToService=2
AccountingStorageType=accounting_storage/none
JobAcctGatherType=jobacct_gather/none
JobCompType=jobcomp/none
MinJobAge=3600
SlurmdTimeout=10
SlurmctldTimeout=10
MessageTimeout=5
InactiveLimit=0
SlurmdParameters=config_overrides
KillWait=5
JobRequeue=0
GresTypes=gpu
NodeName={NODE} NodeAddr=127.0.0.1 CPUs={cpus} RealMemory={NODE_MEMORY_MB} Gres=gpu:{GPUS} State=UNKNOWN
PartitionName=cpu Nodes={NODE} Default=YES MaxTime=INFINITE State=UP
PartitionName=gpu Nodes={NODE} MaxTime=INFINITE State=UP
"""


def write_config(state: Path) -> None:
    """Write slurm.conf and gres.conf to /etc/slurm, and the GPU device files they name."""
    for name in ("slurm.conf", "gres.conf"):
        path = ETC / name
        if path.exists() and MARKER not in path.read_text():
            raise Unavailable(f"{path} exists and was not written by this script: not touching it")
    devices = state / "dev"
    devices.mkdir(parents=True, exist_ok=True)
    for i in range(GPUS):
        node = devices / f"gpu{i}"
        if not node.exists():  # a character device like /dev/null: a GPU slurmd can count
            _run("mknod", str(node), "c", "1", "3")
    for sub in ("ctld", "d"):
        (state / sub).mkdir(parents=True, exist_ok=True)
    ETC.mkdir(parents=True, exist_ok=True)
    conf = slurm_conf(state, os.cpu_count() or 1)
    (ETC / "slurm.conf").write_text(conf)
    gres = f"{MARKER}\nNodeName={NODE} Name=gpu File={devices}/gpu[0-{GPUS - 1}]\n"
    (ETC / "gres.conf").write_text(gres)


def _munge_works() -> bool:
    try:
        cred = _run("munge", "-n", check=False, timeout=10)
        if cred.returncode != 0:
            return False
        proc = subprocess.run(
            ["unmunge"], input=cred.stdout, capture_output=True, text=True, timeout=10
        )
        return proc.returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


def _spawn(cluster: Cluster, name: str, cmd: list[str]) -> None:
    out = open(cluster.state / f"{name}.out", "ab")  # noqa: SIM115 - the daemon keeps it
    proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    cluster.pids[name] = proc.pid
    cluster.save()


def _wait(what: str, predicate, timeout: float, cluster: Cluster) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.3)
    tails = {n: _tail(cluster.state / f"{n}.log") for n in ("slurmctld", "slurmd")}
    raise Unavailable(f"timed out after {timeout:.0f}s waiting for {what}; logs: {tails}")


def _tail(path: Path, chars: int = 1500) -> str:
    return path.read_text(errors="replace")[-chars:] if path.exists() else "(none)"


def node_state() -> str:
    proc = _run("sinfo", "-h", "-N", "-n", NODE, "-o", "%T", check=False, timeout=15)
    return proc.stdout.strip().split("\n")[0] if proc.returncode == 0 else ""


def start_slurmd(cluster: Cluster) -> None:
    """(Re)start the node daemon and wait until the node is idle or running jobs."""
    _spawn(cluster, "slurmd", [_exe("slurmd"), "-D", "-N", NODE])
    ready = ("idle", "mixed", "allocated", "completing")
    _wait("the node to be up", lambda: node_state().rstrip("*~#") in ready, 60, cluster)


def up(state: Path) -> Cluster:
    """Install (if needed), configure and start the cluster; return it when the node is idle."""
    ensure_packages()
    state.mkdir(parents=True, exist_ok=True)
    if _run("scontrol", "ping", check=False, timeout=15).stdout.count("UP"):
        raise Unavailable("a Slurm controller already answers on this machine")
    write_config(state)
    cluster = Cluster(state=state)
    try:
        if not _munge_works():
            Path("/run/munge").mkdir(parents=True, exist_ok=True)
            shutil.chown("/run/munge", "munge", "munge")
            setpriv = ["setpriv", "--reuid=munge", "--regid=munge", "--init-groups"]
            _spawn(cluster, "munged", [*setpriv, _exe("munged"), "-F"])
            _wait("munged", _munge_works, 30, cluster)
        _spawn(cluster, "slurmctld", [_exe("slurmctld"), "-D", "-i"])
        ping = lambda: "UP" in _run("scontrol", "ping", check=False, timeout=15).stdout  # noqa: E731
        _wait("slurmctld", ping, 60, cluster)
        start_slurmd(cluster)
    except BaseException:
        down(cluster)
        raise
    log.info("slurm up: %s", cluster.pids)
    return cluster


def kill(cluster: Cluster, name: str, sig: int = signal.SIGTERM, wait: float = 15) -> None:
    """Stop one daemon we started, by its recorded PID (SIGKILL if it outlives `wait`)."""
    pid = cluster.pids.pop(name, None)
    cluster.save()
    if pid is None:
        return
    try:
        os.kill(pid, sig)
    except ProcessLookupError:
        return
    deadline = time.monotonic() + wait
    while time.monotonic() < deadline:
        try:
            done, _ = os.waitpid(pid, os.WNOHANG)
        except ChildProcessError:  # not our child (a `down` from another process)
            done = 0 if _alive(pid) else pid
        if done:
            return
        time.sleep(0.1)
    os.kill(pid, signal.SIGKILL)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    stat = Path(f"/proc/{pid}/stat")
    return not (stat.exists() and stat.read_text().split()[2] == "Z")


def down(cluster: Cluster) -> None:
    """Cancel the cluster's jobs, stop the daemons we started (node first) by PID, and
    remove our /etc/slurm files."""
    if "slurmctld" in cluster.pids:
        _run("scancel", f"--user={os.geteuid()}", check=False, timeout=30)
        idle = lambda: not _run("squeue", "-h", check=False, timeout=15).stdout.strip()  # noqa: E731
        try:
            _wait("the jobs to end", idle, 30, cluster)
        except Unavailable as exc:
            log.warning("%s", exc)
    for name in ("slurmd", "slurmctld", "munged"):
        kill(cluster, name)
    for name in ("slurm.conf", "gres.conf"):
        path = ETC / name
        if path.exists() and MARKER in path.read_text():
            path.unlink()
    log.info("slurm down")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("action", choices=["up", "down"])
    parser.add_argument("state", type=Path, help="folder for spool, logs, devices and PIDs")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(name)s: %(message)s")
    if args.action == "up":
        try:
            cluster = up(args.state.resolve())
        except Unavailable as exc:
            log.error("%s", exc)
            return 1
        print(cluster.state)
    else:
        down(Cluster.load(args.state.resolve()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
