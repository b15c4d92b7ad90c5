"""A throw-away PostgreSQL 15 + PostGIS server for the tests (initdb on a temporary folder, 127.0.0.1 only)."""

from __future__ import annotations

import os
import pwd
import secrets
import shutil
import socket
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

BINDIR = Path(os.environ.get("BIGCATS_PG_BINDIR", "/usr/lib/postgresql/15/bin"))
POSTGIS_CONTROL = Path("/usr/share/postgresql/15/extension/postgis.control")
SUPERUSER = "bigcats"


def missing() -> str | None:
    """Why the server cannot start here (None if it can)."""
    if not (BINDIR / "initdb").is_file():
        return f"PostgreSQL 15 not installed ({BINDIR}/initdb): run scripts/ensure_postgis.sh (make test does)"
    if not POSTGIS_CONTROL.is_file():
        return "PostGIS for PostgreSQL 15 not installed: run scripts/ensure_postgis.sh (make test does)"
    if os.geteuid() == 0:
        try:
            pwd.getpwnam("postgres")
        except KeyError:
            return "running as root and there is no 'postgres' user to run the server as"
    return None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Server:
    base: Path
    port: int
    run_as: list[str]
    password: str

    def url(self, db: str) -> str:
        return f"postgresql://{SUPERUSER}@127.0.0.1:{self.port}/{db}"

    def create_database(self, name: str) -> str:
        """Create a database with the postgis extension; return its URL."""
        import psycopg

        with psycopg.connect(self.url("postgres"), password=self.password, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        with psycopg.connect(self.url(name), password=self.password, autocommit=True) as conn:
            conn.execute("CREATE EXTENSION postgis")
        return self.url(name)

    def stop(self) -> None:
        subprocess.run(
            [*self.run_as, str(BINDIR / "pg_ctl"), "-D", str(self.base / "data"), "-m", "fast", "-w", "stop"],
            capture_output=True,
            check=False,
        )
        shutil.rmtree(self.base, ignore_errors=True)


def start() -> Server:
    """initdb + pg_ctl start on a temporary data folder and a free loopback port.

    TCP connections need the superuser's password (scram-sha-256), so the tests
    exercise PGPASSWORD / ~/.pgpass for real.
    """
    base = Path(tempfile.mkdtemp(prefix="bigcats-pg-"))
    run_as: list[str] = []
    if os.geteuid() == 0:  # the server refuses to run as root
        user = pwd.getpwnam("postgres")
        os.chown(base, user.pw_uid, user.pw_gid)
        # util-linux's runuser lives in sbin, which a non-login PATH may leave out
        runuser = shutil.which("runuser") or shutil.which("runuser", path="/usr/sbin:/sbin")
        if runuser is None:
            raise RuntimeError("running PostgreSQL as root needs runuser (util-linux); install it")
        run_as = [runuser, "-u", "postgres", "--"]
    data = base / "data"
    password = secrets.token_hex(12)
    pwfile = base / "pwfile"
    pwfile.write_text(password + "\n")
    if run_as:
        os.chown(pwfile, user.pw_uid, user.pw_gid)
    subprocess.run(
        [
            *run_as,
            str(BINDIR / "initdb"),
            "-D",
            str(data),
            "-U",
            SUPERUSER,
            f"--pwfile={pwfile}",
            "--auth-local=trust",
            "--auth-host=scram-sha-256",
            "-E",
            "UTF8",
            "--no-sync",
        ],
        capture_output=True,
        check=True,
    )
    port = _free_port()
    options = f"-p {port} -h 127.0.0.1 -k {base} -c fsync=off"
    proc = subprocess.run(
        [
            *run_as,
            str(BINDIR / "pg_ctl"),
            "-D",
            str(data),
            "-l",
            str(base / "server.log"),
            "-w",
            "-o",
            options,
            "start",
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    if proc.returncode != 0:
        log = (base / "server.log").read_text(errors="replace") if (base / "server.log").exists() else ""
        shutil.rmtree(base, ignore_errors=True)
        raise RuntimeError(f"PostgreSQL did not start: {proc.stderr} {log}")
    return Server(base=base, port=port, run_as=run_as, password=password)
