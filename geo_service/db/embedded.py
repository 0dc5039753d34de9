"""The embedded PostGIS: a PostgreSQL cluster of the project's own, started on demand on loopback.

initdb and postgres refuse to run as root, so as root the cluster belongs to an unprivileged
system user (``postgres`` where Debian created it, else ``geo_service``) and every server
command runs through ``runuser``.
"""

from __future__ import annotations

import glob
import os
import pwd
import secrets
import shutil
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

SUPERUSER = "geo_service"
INSTALL_HINT = "apt-get install postgresql-15 postgresql-15-postgis-3"


class EmbeddedError(RuntimeError):
    """The embedded cluster cannot be set up or started; the message says what to do."""


def find_pg_bin() -> Path:
    """Directory of the newest installed PostgreSQL server binaries."""
    env = os.environ.get("GEO_PG_BIN")
    candidates = [Path(env)] if env else []
    candidates += sorted(
        (Path(p) for p in glob.glob("/usr/lib/postgresql/*/bin")),
        key=lambda p: int(p.parent.name) if p.parent.name.isascii() and p.parent.name.isdigit() else 0,
        reverse=True,
    )
    pg_config = shutil.which("pg_config")
    if pg_config:
        candidates.append(Path(pg_config).resolve().parent)
    for cand in candidates:
        if (cand / "initdb").exists() and (cand / "pg_ctl").exists() and (cand / "postgres").exists():
            return cand
    raise EmbeddedError(f"PostgreSQL server binaries not found: install them with `{INSTALL_HINT}`")


def check_postgis(bin_dir: Path) -> None:
    """Fail with the install command when the PostGIS extension is missing for this server."""
    version = bin_dir.parent.name
    share = Path(f"/usr/share/postgresql/{version}/extension")
    pg_config = bin_dir / "pg_config"
    if pg_config.exists():
        out = subprocess.run([str(pg_config), "--sharedir"], capture_output=True, text=True)
        if out.returncode == 0:
            share = Path(out.stdout.strip()) / "extension"
    if not (share / "postgis.control").exists():
        raise EmbeddedError(
            f"PostGIS is not installed for PostgreSQL {version}: "
            f"install it with `apt-get install postgresql-{version}-postgis-3`"
        )


def _server_user() -> str | None:
    """The unprivileged account the server runs as when we are root (None when not root)."""
    if os.geteuid() != 0:
        return None
    for name in ("postgres", SUPERUSER):
        try:
            pwd.getpwnam(name)
            return name
        except KeyError:
            continue
    subprocess.run(
        ["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", SUPERUSER],
        check=True,
    )
    return SUPERUSER


@dataclass
class EmbeddedCluster:
    """A PostgreSQL cluster living in ``home`` and listening on 127.0.0.1:``port``."""

    home: Path
    port: int
    database: str = "geo_service"

    @property
    def pgdata(self) -> Path:
        return self.home / "pg"

    @property
    def socket_dir(self) -> Path:
        return self.home / "run"

    @property
    def log_file(self) -> Path:
        return self.home / "postgres.log"

    @property
    def password_file(self) -> Path:
        return self.home / "password"

    def _run(self, args: list[str], check: bool = True) -> subprocess.CompletedProcess[str]:
        user = _server_user()
        cmd = ["runuser", "-u", user, "--", *args] if user else args
        if not user and args[0] == "env":
            cmd = args
        result = subprocess.run(cmd, capture_output=True, text=True)
        if check and result.returncode != 0:
            raise EmbeddedError(f"{Path(args[0]).name} failed: {(result.stderr or result.stdout).strip()}")
        return result

    def password(self) -> str:
        return self.password_file.read_text().strip()

    def url(self, database: str | None = None) -> str:
        """SQLAlchemy URL (asyncpg driver) of a database in this cluster."""
        db = database or self.database
        return f"postgresql+asyncpg://{SUPERUSER}:{quote(self.password())}@127.0.0.1:{self.port}/{db}"

    def initialised(self) -> bool:
        return (self.pgdata / "PG_VERSION").exists()

    def init(self) -> None:
        """Create the cluster (once): scram passwords, loopback only."""
        bin_dir = find_pg_bin()
        check_postgis(bin_dir)
        self.home.mkdir(parents=True, exist_ok=True)
        self.socket_dir.mkdir(exist_ok=True)
        if not self.password_file.exists():
            self.password_file.write_text(secrets.token_urlsafe(24))
            self.password_file.chmod(0o600)
        user = _server_user()
        pwfile = self.home / "pwfile.tmp"
        pwfile.write_text(self.password() + "\n")
        try:
            if user:
                info = pwd.getpwnam(user)
                for path in (self.home, self.socket_dir, pwfile):
                    os.chown(path, info.pw_uid, info.pw_gid)
                probe = subprocess.run(["runuser", "-u", user, "--", "test", "-w", str(self.home)])
                if probe.returncode != 0:
                    raise EmbeddedError(
                        f"the server account {user!r} cannot reach {self.home}: "
                        "set GEO_DATA_DIR to a directory it can write (e.g. under /var/lib)"
                    )
            self._run(
                [
                    str(bin_dir / "initdb"),
                    "-D",
                    str(self.pgdata),
                    "-U",
                    SUPERUSER,
                    "--pwfile",
                    str(pwfile),
                    "--auth",
                    "scram-sha-256",
                    "-E",
                    "UTF8",
                    "--locale",
                    "C.UTF-8",
                ]
            )
        finally:
            pwfile.unlink(missing_ok=True)
        with (self.pgdata / "postgresql.conf").open("a") as conf:
            conf.write(
                "\n# geo_service embedded cluster\n"
                "listen_addresses = '127.0.0.1'\n"
                f"port = {self.port}\n"
                f"unix_socket_directories = '{self.socket_dir}'\n"
                "max_connections = 200\n"
                "shared_buffers = 512MB\n"
                "fsync = on\n"
            )

    def running(self) -> bool:
        if not self.initialised():
            return False
        result = self._run([str(find_pg_bin() / "pg_ctl"), "status", "-D", str(self.pgdata)], check=False)
        return result.returncode == 0

    def start(self) -> None:
        """Initialise if needed and start the server; a running server is left alone."""
        if not self.initialised():
            self.init()
        if self.running():
            return
        user = _server_user()
        if user and not self.log_file.exists():
            self.log_file.touch()
            info = pwd.getpwnam(user)
            os.chown(self.log_file, info.pw_uid, info.pw_gid)
        self._run(
            [
                str(find_pg_bin() / "pg_ctl"),
                "start",
                "-w",
                "-t",
                "60",
                "-D",
                str(self.pgdata),
                "-l",
                str(self.log_file),
            ]
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            ready = self._run(
                [str(find_pg_bin() / "pg_isready"), "-h", "127.0.0.1", "-p", str(self.port)], check=False
            )
            if ready.returncode == 0:
                return
            time.sleep(0.2)
        raise EmbeddedError(f"the embedded database did not accept connections; see {self.log_file}")

    def stop(self) -> None:
        if self.running():
            self._run([str(find_pg_bin() / "pg_ctl"), "stop", "-m", "fast", "-w", "-D", str(self.pgdata)])

    def make_replica(self, home: Path, port: int) -> EmbeddedCluster:
        """A streaming replica of this (running) cluster in ``home`` on ``port`` (pg_basebackup -R); not started."""
        replica = EmbeddedCluster(home, port, self.database)
        home.mkdir(parents=True, exist_ok=True)
        replica.socket_dir.mkdir(exist_ok=True)
        replica.password_file.write_text(self.password())
        replica.password_file.chmod(0o600)
        user = _server_user()
        if user:
            info = pwd.getpwnam(user)
            for path in (home, replica.socket_dir):
                os.chown(path, info.pw_uid, info.pw_gid)
        self._run(
            [
                "env",
                f"PGPASSWORD={self.password()}",
                str(find_pg_bin() / "pg_basebackup"),
                "-h",
                "127.0.0.1",
                "-p",
                str(self.port),
                "-U",
                SUPERUSER,
                "-D",
                str(replica.pgdata),
                "-R",
                "-X",
                "stream",
                "-c",
                "fast",
            ]
        )
        with (replica.pgdata / "postgresql.conf").open("a") as conf:
            conf.write(
                f"\n# replica\nport = {port}\nunix_socket_directories = '{replica.socket_dir}'\nhot_standby = on\n"
            )
        return replica
