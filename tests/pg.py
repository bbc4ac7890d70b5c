"""A throwaway PostgreSQL cluster for the tests: a temporary directory, a free loopback port.

PostgreSQL refuses to run as root, so as root the cluster runs as the ``postgres`` system user
(``runuser -u postgres --``, the temporary directory owned by it). The binaries are looked for in
``$PG_BIN`` or ``/usr/lib/postgresql/15/bin``; tests that need them are skipped, saying so, only
when they are absent (and fail instead when ``PC_REQUIRE_POSTGRES`` is set, as CI sets it).
Durability is off (``fsync``, ``synchronous_commit``): the data is thrown away. Import the
fixtures into a test module: ``from tests.pg import pg_url, postgres  # noqa``.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

PG_BIN = Path(os.environ.get("PG_BIN", "/usr/lib/postgresql/15/bin"))
PASSWORD = "s3cret-Pg/pass"
"""The superuser's password (scram-sha-256 over TCP): the tests check it never reaches a log."""


@dataclass(frozen=True)
class Cluster:
    """A running cluster: ``url`` names its ``postgres`` database as user ``postgres``."""

    host: str
    port: int

    def url(self, database: str = "postgres") -> str:
        """A SQLAlchemy-style URL of ``database``, password included."""
        quoted = PASSWORD.replace("/", "%2F")
        return f"postgresql://postgres:{quoted}@{self.host}:{self.port}/{database}"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@contextlib.contextmanager
def running_cluster() -> Iterator[Cluster]:
    """Start a cluster in a temporary directory; stop it and delete the directory afterwards."""
    if not (PG_BIN / "initdb").exists():
        if os.environ.get("PC_REQUIRE_POSTGRES"):
            pytest.fail(
                f"PostgreSQL binaries not found in {PG_BIN}, and PC_REQUIRE_POSTGRES is set"
            )
        pytest.skip(f"PostgreSQL binaries not found in {PG_BIN} (set PG_BIN)")
    as_root = os.geteuid() == 0
    prefix = ["runuser", "-u", "postgres", "--"] if as_root else []
    root = Path(tempfile.mkdtemp(prefix="pc-pg-"))
    data, password_file = root / "data", root / "password"
    password_file.write_text(PASSWORD + "\n")
    if as_root:
        for path in (root, password_file):
            shutil.chown(path, "postgres", "postgres")
    root.chmod(0o700)
    port = _free_port()
    try:
        subprocess.run(
            [
                *prefix,
                str(PG_BIN / "initdb"),
                "-D",
                str(data),
                "-U",
                "postgres",
                "-E",
                "UTF8",
                "--no-sync",
                "--auth-local=trust",
                "--auth-host=scram-sha-256",
                f"--pwfile={password_file}",
            ],
            check=True,
            capture_output=True,
        )
        options = (
            f"-p {port} -h 127.0.0.1 -k {root} -c fsync=off -c synchronous_commit=off "
            "-c full_page_writes=off"
        )
        pg_ctl = [*prefix, str(PG_BIN / "pg_ctl"), "-D", str(data)]
        subprocess.run(
            [*pg_ctl, "-l", str(root / "log"), "-w", "-o", options, "start"],
            check=True,
            capture_output=True,
        )
        try:
            yield Cluster("127.0.0.1", port)
        finally:
            subprocess.run(
                [*pg_ctl, "-m", "immediate", "stop"],
                check=False,
                capture_output=True,
            )
    finally:
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(scope="session")
def postgres() -> Iterator[Cluster]:
    """One cluster for the whole session, stopped at its end."""
    with running_cluster() as cluster:
        yield cluster


@pytest.fixture
def pg_url(postgres: Cluster) -> str:
    """A URL of a new, empty database of the session's cluster."""
    import psycopg2

    name = f"t_{uuid.uuid4().hex[:12]}"
    connection = psycopg2.connect(postgres.url())
    try:
        connection.autocommit = True
        with connection.cursor() as cursor:
            cursor.execute(f"CREATE DATABASE {name}")
    finally:
        connection.close()
    return postgres.url(name)
