"""A throwaway PostgreSQL cluster on loopback: initdb into a temporary directory, a free port on
127.0.0.1, pg_ctl. No system service and no existing database is touched; the cluster is stopped
and its directory removed on leaving the `with` block, also after a failure (a caller that should
clean up after SIGTERM too turns it into an exception).

    with Cluster() as pg:
        pg.dsn   # postgresql://postgres@127.0.0.1:PORT/postgres

PostgreSQL refuses to run as root: as root the cluster belongs to the `postgres` user (Debian's
server package creates it) and its programs run through runuser. PG_BINDIR overrides where
initdb and pg_ctl are looked for (default: the newest /usr/lib/postgresql/*/bin, else PATH).
"""

import contextlib
import glob
import os
import shutil
import signal
import socket
import subprocess
import tempfile
from pathlib import Path


def bindir():
    if os.environ.get("PG_BINDIR"):
        return Path(os.environ["PG_BINDIR"])
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(p.split("/")[4]))
    if found:
        return Path(found[-1]).parent
    initdb = shutil.which("initdb")
    if not initdb:
        raise RuntimeError("PostgreSQL's initdb is missing (apt postgresql-15 postgresql-15-postgis-3; just setup)")
    return Path(initdb).parent


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Cluster:
    def __init__(self):
        self.bin = bindir()
        root = os.geteuid() == 0
        # As root the cluster's user must reach its directory: under /tmp, whatever TMPDIR says.
        self.dir = Path(tempfile.mkdtemp(prefix="stratus-pg-", dir="/tmp" if root else None))
        self.data = self.dir / "data"
        self.port = free_port()
        self.dsn = f"postgresql://postgres@127.0.0.1:{self.port}/postgres"
        self.log = self.dir / "postgres.log"
        self._as = [shutil.which("runuser") or "/sbin/runuser", "-u", "postgres", "--"] if root else []
        self._started = False

    def _run(self, *args):
        subprocess.run([*self._as, *args], check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)

    def __enter__(self):
        try:
            if self._as:
                shutil.chown(self.dir, "postgres")
            # trust on loopback: the cluster lives for one test and listens on 127.0.0.1 only.
            self._run(str(self.bin / "initdb"), "-D", str(self.data), "-U", "postgres", "-A", "trust",
                      "-E", "UTF8", "--locale=C", "--no-sync")
            options = (f"-c listen_addresses=127.0.0.1 -p {self.port} -k {self.dir} "
                       "-c fsync=off -c synchronous_commit=off -c full_page_writes=off")
            self._started = True
            self._run(str(self.bin / "pg_ctl"), "-D", str(self.data), "-l", str(self.log), "-o", options,
                      "-w", "-t", "60", "start")
        except subprocess.CalledProcessError as e:
            self.__exit__(None, None, None)
            raise RuntimeError(f"PostgreSQL did not start: {e.stderr.decode(errors='replace')[-2000:]}"
                               f"{self.tail_log()}") from e
        except BaseException:
            self.__exit__(None, None, None)
            raise
        return self

    def tail_log(self):
        try:
            return "\n--- postgres.log ---\n" + "".join(self.log.read_text(errors="replace").splitlines(True)[-20:])
        except OSError:
            return ""

    def __exit__(self, *exc):
        try:
            pid_file = self.data / "postmaster.pid"
            if self._started and pid_file.exists():
                try:
                    subprocess.run([*self._as, str(self.bin / "pg_ctl"), "-D", str(self.data), "-m", "immediate",
                                    "-w", "stop"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=60)
                except subprocess.TimeoutExpired:
                    pass
                if pid_file.exists():
                    # pg_ctl could not stop it: the postmaster this cluster started, by its pid.
                    with contextlib.suppress(OSError, ValueError):
                        os.kill(int(pid_file.read_text().split()[0]), signal.SIGKILL)
        finally:
            shutil.rmtree(self.dir, ignore_errors=True)
        return False
