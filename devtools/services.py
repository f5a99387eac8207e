"""Install, start and stop the lakehouse's local services on loopback, without Docker.

No Docker engine runs on the machines this project targets and Debian has no MinIO
server package, so the repo installs every service itself: MinIO from source with
``go install``, a Kafka broker as jars resolved by ``mvn``, the Prefect server from the
venv, and a Spark standalone master + worker from the pip ``pyspark`` package.

Binaries live under ``settings.services_dir`` (a cache outside the repo, shared by all
checkouts). Each running process is a detached session leader with its log in
``services_dir/<service>/<process>.log`` and its pid in ``.../<process>.pid``; the pid
file is the only state, so a later ``lakehouse down`` in another shell can stop what
``lakehouse up`` started. Every start waits for a real readiness signal (an HTTP health
endpoint, a broker metadata round trip, a registered Spark worker) because an open port
alone has proved too early for clients.
"""

from __future__ import annotations

import base64
import contextlib
import json
import logging
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from string import Template
from typing import Any
from urllib.parse import urlsplit

from lakehouse.settings import Settings, SettingsError

log = logging.getLogger(__name__)

MINIO_MODULE = "github.com/minio/minio"
# MinIO's own tags are not semver, so `go install ...@<tag>` fails: pin the pseudo-version
# that `@latest` resolved to when this was tested.
MINIO_VERSION = "v0.0.0-20260212201848-7aac2a2c5b7c"
KAFKA_VERSION = "4.1.1"
LOG4J_VERSION = "2.24.3"
# kafka_2.13 declares slf4j-api 1.7.x; the log4j-slf4j2 binding needs the 2.x API.
SLF4J_VERSION = "2.0.16"
KAFKA_HEAP = "-Xmx512m"

PREFECT_HOST = "127.0.0.1"
PREFECT_PORT = 4200
SPARK_DEFAULT_MASTER = ("127.0.0.1", 7077)
SPARK_MASTER_UI_PORT = 8080
SPARK_WORKER_UI_PORT = 8081
SPARK_WORKER_CORES = 2
SPARK_WORKER_MEMORY = "2g"

SERVICES = ("minio", "kafka", "prefect", "spark")
DEFAULT_SERVICES = ("minio", "kafka", "prefect")

SERVICE_FILES = Path(__file__).with_name("service_files")
STOP_TIMEOUT = 30.0


class ServiceError(RuntimeError):
    """A local service could not be installed, started or stopped.

    The first line of the message is self-contained (service, cause, log file) so a CLI
    can print just that; the log's last lines follow for tests and tracebacks.
    """

    def __init__(self, message: str, log_file: Path | None = None, log_tail: str = "") -> None:
        self.log_file = log_file
        self.log_tail = log_tail
        full = message
        if log_file is not None:
            full += f" (log: {log_file})"
        if log_tail:
            full += f"\n--- last lines of {log_file} ---\n{log_tail}"
        super().__init__(full)


@dataclass(frozen=True)
class ServiceStatus:
    """What `status` reports for one process: enough for a table and for scripts."""

    name: str
    running: bool
    pid: int | None
    url: str
    detail: str


@dataclass(frozen=True)
class _Proc:
    """A managed process: which service folder holds its files and how to recognise it.

    ``marker`` must appear in the process's command line before we signal it, so a pid
    file left over from before a reboot never makes us kill an unrelated process.
    """

    name: str
    folder: str
    marker: str


_PROCS: dict[str, _Proc] = {
    "minio": _Proc("minio", "minio", "minio"),
    "kafka": _Proc("kafka", "kafka", "kafka.Kafka"),
    "prefect": _Proc("prefect", "prefect", "prefect"),
    "spark-master": _Proc("spark-master", "spark", "org.apache.spark.deploy.master.Master"),
    "spark-worker": _Proc("spark-worker", "spark", "org.apache.spark.deploy.worker.Worker"),
}
_SERVICE_PROCS: dict[str, tuple[str, ...]] = {
    "minio": ("minio",),
    "kafka": ("kafka",),
    "prefect": ("prefect",),
    "spark": ("spark-master", "spark-worker"),
}
# Popen objects of children started by this interpreter: polling them reaps zombies, which
# would otherwise look alive to os.kill(pid, 0) until this process exits (pytest, notebooks).
_CHILDREN: dict[int, subprocess.Popen[bytes]] = {}


# --------------------------------------------------------------------------- addresses


def _split_host_port(address: str, default_port: int) -> tuple[str, int]:
    """``http://h:p``, ``spark://h:p`` or ``h:p`` -> (h, p); the first of a comma list."""
    first = address.split(",")[0].strip()
    parts = urlsplit(first if "://" in first else f"//{first}")
    return parts.hostname or "127.0.0.1", parts.port or default_port


def minio_address(settings: Settings) -> tuple[str, int]:
    return _split_host_port(settings.s3_endpoint, 9000)


def kafka_address(settings: Settings) -> tuple[str, int]:
    return _split_host_port(settings.kafka_bootstrap, 9092)


def spark_master_address(settings: Settings) -> tuple[str, int]:
    """The standalone master to run: ``settings.spark_master`` if it is a ``spark://`` URL.

    With the default ``local[*]`` the cluster still starts on 127.0.0.1:7077, so a user can
    switch ``LAKEHOUSE_SPARK_MASTER`` to it without restarting anything.
    """
    if settings.spark_master.startswith("spark://"):
        return _split_host_port(settings.spark_master, SPARK_DEFAULT_MASTER[1])
    return SPARK_DEFAULT_MASTER


def service_ports(
    settings: Settings,
    name: str,
    prefect_port: int = PREFECT_PORT,
    master_ui_port: int = SPARK_MASTER_UI_PORT,
    worker_ui_port: int = SPARK_WORKER_UI_PORT,
) -> list[tuple[str, int]]:
    """Every (host, port) a service binds, so callers can check them before starting."""
    if name == "minio":
        host, port = minio_address(settings)
        return [(host, port), (host, port + 1)]
    if name == "kafka":
        host, port = kafka_address(settings)
        return [(host, port), (host, port + 1)]
    if name == "prefect":
        return [(PREFECT_HOST, prefect_port)]
    if name == "spark":
        host, port = spark_master_address(settings)
        return [(host, port), (host, master_ui_port), (host, worker_ui_port)]
    raise ServiceError(f"unknown service {name!r}; expected one of {', '.join(SERVICES)}")


# --------------------------------------------------------------------------- low-level helpers


def _proc_dir(settings: Settings, proc: str) -> Path:
    return settings.services_dir / _PROCS[proc].folder


def pid_file(settings: Settings, proc: str) -> Path:
    return _proc_dir(settings, proc) / f"{proc}.pid"


def log_file(settings: Settings, proc: str) -> Path:
    return _proc_dir(settings, proc) / f"{proc}.log"


def _read_pid(path: Path) -> int | None:
    try:
        return int(path.read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return None


def _proc_state(pid: int) -> str | None:
    """The one-letter state from /proc (``Z`` for a zombie); None if there is no such pid."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return stat.rsplit(")", 1)[1].split()[0]


def _pid_alive(pid: int) -> bool:
    child = _CHILDREN.get(pid)
    if child is not None and child.poll() is not None:
        _CHILDREN.pop(pid, None)
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return _proc_state(pid) not in ("Z", None) if Path("/proc").is_dir() else True


def _owned(pid: int, proc: str) -> bool:
    """True if ``pid`` is alive and really is our process (see ``_Proc.marker``)."""
    if not _pid_alive(pid):
        return False
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return True  # no /proc: trust the pid file
    return _PROCS[proc].marker in cmdline


def running_pid(settings: Settings, proc: str) -> int | None:
    """The pid of our live process, removing a stale pid file on the way."""
    path = pid_file(settings, proc)
    pid = _read_pid(path)
    if pid is None:
        return None
    if _owned(pid, proc):
        return pid
    path.unlink(missing_ok=True)
    return None


def port_open(host: str, port: int, timeout: float = 0.5) -> bool:
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def _http_get(url: str, timeout: float = 2.0) -> bytes | None:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as resp:
            return resp.read() if resp.status == 200 else None
    except (urllib.error.URLError, OSError, ValueError):
        return None


def _http_json(url: str, timeout: float = 2.0) -> Any:
    body = _http_get(url, timeout)
    if body is None:
        return None
    try:
        return json.loads(body)
    except ValueError:
        return None


def _tail(path: Path, lines: int = 25) -> str:
    try:
        text = path.read_text(errors="replace")
    except OSError:
        return "(no log written)"
    return "\n".join(text.splitlines()[-lines:])


def _child_env(extra: Mapping[str, str], drop_prefixes: Sequence[str] = ()) -> dict[str, str]:
    """The parent's environment minus ``drop_prefixes`` plus ``extra``.

    Dropping e.g. every ``PREFECT_*`` keeps a user's own Prefect profile, database URL or
    Cloud key from leaking into the project's local server.
    """
    env = {k: v for k, v in os.environ.items() if not k.startswith(tuple(drop_prefixes))}
    env.update(extra)
    return env


def _require_tool(tool: str, why: str) -> str:
    found = shutil.which(tool)
    if found is None:
        raise ServiceError(f"`{tool}` is not on PATH; it is needed to {why}")
    return found


def _require_free(service: str, ports: Iterable[tuple[str, int]]) -> None:
    for host, port in ports:
        if port_open(host, port):
            raise ServiceError(
                f"{service}: {host}:{port} is already in use by a process this project did not start; "
                f"stop it or move {service} to another port in the settings"
            )


def _launch(settings: Settings, proc: str, argv: Sequence[str | Path], env: Mapping[str, str], cwd: Path) -> int:
    """Start ``argv`` detached (own session, so a terminal's Ctrl-C does not reach it)."""
    logf = log_file(settings, proc)
    logf.parent.mkdir(parents=True, exist_ok=True)
    cwd.mkdir(parents=True, exist_ok=True)
    if logf.exists():  # keep the previous run's log: it is what explains a crash
        logf.replace(logf.with_name(logf.name + ".1"))
    with logf.open("wb") as out:
        child = subprocess.Popen(
            [str(a) for a in argv],
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            env=dict(env),
            cwd=cwd,
            start_new_session=True,
        )
    _CHILDREN[child.pid] = child
    pid_file(settings, proc).write_text(f"{child.pid}\n")
    log.info("started %s (pid %d), log %s", proc, child.pid, logf)
    return child.pid


def _wait_ready(settings: Settings, proc: str, pid: int, ready: Callable[[], bool], timeout: float, what: str) -> float:
    """Poll ``ready`` until it holds; stop the process and raise if it dies or times out.

    Returns the seconds waited, which `up` reports so slow machines are visible.
    """
    start = time.monotonic()
    while True:
        try:
            if ready():
                return time.monotonic() - start
        except Exception as exc:  # a probe failing is just "not ready yet"
            log.debug("%s probe: %s", proc, exc)
        if not _pid_alive(pid):
            pid_file(settings, proc).unlink(missing_ok=True)
            logf = log_file(settings, proc)
            raise ServiceError(f"{proc} exited before it was ready", logf, _tail(logf))
        if time.monotonic() - start > timeout:
            logf = log_file(settings, proc)
            tail = _tail(logf)
            stop(settings, proc)
            raise ServiceError(f"{proc} was not ready ({what}) within {timeout:.0f} s", logf, tail)
        time.sleep(0.5)


def _reuse(settings: Settings, proc: str, ready: Callable[[], bool], timeout: float, what: str) -> int | None:
    """If our process already runs, wait for it to be healthy and return its pid (start is a no-op)."""
    pid = running_pid(settings, proc)
    if pid is None:
        return None
    _wait_ready(settings, proc, pid, ready, timeout, what)
    return pid


# --------------------------------------------------------------------------- installs


def install_minio(settings: Settings, *, low_priority: bool = False) -> Path:
    """The MinIO server binary: ``minio`` on PATH, else built once into ``services_dir/bin``.

    Building from source is the one way that works offline-after-first-use on Debian
    without Docker; it takes about 3 minutes on 2 cores, so an existing binary is reused.
    ``low_priority`` builds under ``nice`` (when present), for a build that runs beside other work.
    """
    found = shutil.which("minio")
    if found:
        return Path(found)
    bin_dir = settings.services_dir / "bin"
    target = bin_dir / "minio"
    if target.is_file() and os.access(target, os.X_OK):
        return target
    go = _require_tool("go", "build the MinIO server (or put a `minio` server binary on PATH)")
    bin_dir.mkdir(parents=True, exist_ok=True)
    log.info("building MinIO %s into %s (about 3 minutes)", MINIO_VERSION, bin_dir)
    nice = shutil.which("nice") if low_priority else None
    result = subprocess.run(
        [*([nice, "-n", "10"] if nice else []), go, "install", f"{MINIO_MODULE}@{MINIO_VERSION}"],
        env=_child_env({"GOBIN": str(bin_dir)}),
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0 or not target.is_file():
        tail = "\n".join((result.stderr or result.stdout).splitlines()[-25:])
        raise ServiceError(f"go install of MinIO failed (exit {result.returncode})", log_tail=tail)
    return target


def _kafka_stamp() -> str:
    return f"kafka {KAFKA_VERSION} log4j {LOG4J_VERSION} slf4j {SLF4J_VERSION}\n"


def _kafka_lib(settings: Settings) -> Path:
    return settings.services_dir / "kafka" / "lib"


def install_kafka(settings: Settings) -> Path:
    """The Kafka broker's jars in ``services_dir/kafka/lib``, resolved once by Maven.

    A stamp file records the versions, so bumping a constant above re-resolves while an
    unchanged install costs nothing; a half-copied folder (no stamp) is redone from scratch.
    """
    lib = _kafka_lib(settings)
    stamp = lib / ".installed"
    if stamp.is_file() and stamp.read_text() == _kafka_stamp():
        return lib
    mvn = _require_tool("mvn", "resolve the Kafka broker jars")
    _require_tool("java", "run the Kafka broker")
    build = settings.services_dir / "kafka" / "build"
    build.mkdir(parents=True, exist_ok=True)
    pom = build / "pom.xml"
    pom.write_text(
        Template((SERVICE_FILES / "kafka-pom.xml").read_text()).substitute(
            kafka_version=KAFKA_VERSION, log4j_version=LOG4J_VERSION, slf4j_version=SLF4J_VERSION
        )
    )
    if lib.exists():
        shutil.rmtree(lib)
    log.info("resolving Kafka %s jars into %s", KAFKA_VERSION, lib)
    result = subprocess.run(
        [mvn, "-q", "-B", "-f", str(pom), "dependency:copy-dependencies", f"-DoutputDirectory={lib}"],
        cwd=build,
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0 or not any(lib.glob("kafka_2.13-*.jar")):
        tail = "\n".join((result.stdout + result.stderr).splitlines()[-25:])
        raise ServiceError(f"mvn could not resolve the Kafka {KAFKA_VERSION} jars", log_tail=tail)
    stamp.write_text(_kafka_stamp())
    return lib


# --------------------------------------------------------------------------- MinIO


def _minio_credentials(settings: Settings) -> tuple[str, str]:
    user = settings.s3_access_key_value()  # raises SettingsError pointing at .env.example
    password = settings.s3_secret_key_value()
    if len(user) < 3 or len(password) < 8:
        raise SettingsError(
            "MinIO needs LAKEHOUSE_S3_ACCESS_KEY of at least 3 characters and "
            "LAKEHOUSE_S3_SECRET_KEY of at least 8 (see .env.example)."
        )
    return user, password


def _minio_ready(settings: Settings) -> Callable[[], bool]:
    host, port = minio_address(settings)
    url = f"http://{host}:{port}/minio/health/live"
    return lambda: _http_get(url) is not None


def start_minio(settings: Settings, data_dir: Path | None = None, timeout: float = 60.0) -> ServiceStatus:
    """Start MinIO on the host:port of ``settings.s3_endpoint`` (console on the next port)."""
    user, password = _minio_credentials(settings)
    host, port = minio_address(settings)
    ready, what = _minio_ready(settings), "/minio/health/live"
    if (pid := _reuse(settings, "minio", ready, timeout, what)) is not None:
        return ServiceStatus("minio", True, pid, settings.s3_endpoint, "already running")
    _require_free("minio", service_ports(settings, "minio"))
    binary = shutil.which("minio") or settings.services_dir / "bin" / "minio"
    if not Path(binary).is_file():
        raise ServiceError("minio is not installed: run install_minio() or `lakehouse up`")
    data = Path(data_dir) if data_dir else settings.services_dir / "minio" / "data"
    data.mkdir(parents=True, exist_ok=True)
    env = _child_env(
        {"MINIO_ROOT_USER": user, "MINIO_ROOT_PASSWORD": password, "MINIO_UPDATE": "off"},
        drop_prefixes=("MINIO_",),
    )
    argv = [binary, "server", "--address", f"{host}:{port}", "--console-address", f"{host}:{port + 1}", data]
    pid = _launch(settings, "minio", argv, env, _proc_dir(settings, "minio"))
    waited = _wait_ready(settings, "minio", pid, ready, timeout, what)
    return ServiceStatus("minio", True, pid, settings.s3_endpoint, f"started, ready in {waited:.1f} s")


def ensure_bucket(settings: Settings) -> bool:
    """Create ``settings.s3_bucket`` if missing; True if it was created."""
    from minio import Minio

    parts = urlsplit(settings.s3_endpoint)
    client = Minio(
        parts.netloc,
        access_key=settings.s3_access_key_value(),
        secret_key=settings.s3_secret_key_value(),
        secure=parts.scheme == "https",
        region=settings.s3_region,
    )
    if client.bucket_exists(settings.s3_bucket):
        return False
    client.make_bucket(settings.s3_bucket)
    return True


def readonly_policy(bucket: str) -> dict[str, Any]:
    """An IAM policy that lists and reads ``bucket`` and nothing else (no put, no delete, no other bucket)."""
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Action": ["s3:GetBucketLocation", "s3:ListBucket"],
                "Resource": [f"arn:aws:s3:::{bucket}"],
            },
            {"Effect": "Allow", "Action": ["s3:GetObject"], "Resource": [f"arn:aws:s3:::{bucket}/*"]},
        ],
    }


def readonly_policy_name(bucket: str) -> str:
    return f"lakehouse-readonly-{bucket}"


def _dashboard_credentials(settings: Settings) -> tuple[str, str] | None:
    """The dashboard's own MinIO user and password, checked; None when it has none of its own."""
    if not settings.has_dashboard_keys:
        return None
    user, password = settings.dashboard_s3_keys()
    if user == settings.s3_access_key_value():
        return None  # the main user itself: nothing to restrict
    if len(user) < 3 or len(password) < 8:
        raise SettingsError(
            "MinIO needs LAKEHOUSE_DASHBOARD_S3_ACCESS_KEY of at least 3 characters and "
            "LAKEHOUSE_DASHBOARD_S3_SECRET_KEY of at least 8 (see .env.example)."
        )
    return user, password


def ensure_readonly_user(settings: Settings) -> str | None:
    """Create (or update) the dashboard's read-only MinIO user on ``settings.s3_bucket``; its name, or None.

    The dashboard only reads, so it gets a user of its own whose policy allows listing and reading
    the lakehouse bucket and nothing more: a bug or a compromised dashboard host cannot write or
    delete. Needs ``LAKEHOUSE_DASHBOARD_S3_ACCESS_KEY`` / ``_SECRET_KEY``; without them (or with the
    main keys repeated) there is no separate user to create and None is returned. Idempotent: run
    by every ``lakehouse up``, it resets the user's secret to the configured one and re-attaches
    the policy. Uses MinIO's admin API with the root credentials (the main keys).
    """
    from minio import MinioAdmin
    from minio.credentials import StaticProvider
    from minio.error import MinioAdminException

    credentials = _dashboard_credentials(settings)
    if credentials is None:
        return None
    user, password = credentials
    parts = urlsplit(settings.s3_endpoint)
    root_user, root_password = _minio_credentials(settings)
    admin = MinioAdmin(
        endpoint=parts.netloc,
        credentials=StaticProvider(root_user, root_password),
        secure=parts.scheme == "https",
        region=settings.s3_region,
    )
    policy = readonly_policy_name(settings.s3_bucket)
    try:
        admin.policy_add(policy, policy=readonly_policy(settings.s3_bucket))
        admin.user_add(user, password)
        admin.policy_set(policy, user=user)
    except MinioAdminException as exc:
        raise ServiceError(
            f"could not create the dashboard's read-only user on MinIO at {settings.s3_endpoint}: {exc}"
        ) from exc
    log.info("MinIO user %s may read bucket %s (policy %s)", user, settings.s3_bucket, policy)
    return user


# --------------------------------------------------------------------------- Kafka


def _kafka_metadata_ok(bootstrap: str) -> bool:
    from confluent_kafka.admin import AdminClient

    quiet = logging.getLogger(f"{__name__}.kafka-probe")
    # Typed Any: librdkafka's config is str/int/float except "logger", which takes a Logger object.
    config: dict[str, Any] = {"bootstrap.servers": bootstrap, "logger": quiet}
    client = AdminClient(config)
    client.list_topics(timeout=3)
    return True


def _kafka_ready(settings: Settings) -> Callable[[], bool]:
    host, port = kafka_address(settings)
    return lambda: port_open(host, port) and _kafka_metadata_ok(f"{host}:{port}")


def _kafka_cluster_id() -> str:
    """A KRaft cluster id as Kafka's ``random-uuid`` makes it, without a 2 s JVM start."""
    while True:
        cid = base64.urlsafe_b64encode(uuid.uuid4().bytes).rstrip(b"=").decode()
        if not cid.startswith("-"):  # Kafka rejects ids that look like a command-line flag
            return cid


def start_kafka(settings: Settings, data_dir: Path | None = None, timeout: float = 90.0) -> ServiceStatus:
    """Start a single-node KRaft broker (broker + controller) on ``settings.kafka_bootstrap``.

    The controller listens on the next port. Storage is formatted once per data folder.
    """
    host, port = kafka_address(settings)
    bootstrap = f"{host}:{port}"
    ready, what = _kafka_ready(settings), "TCP port and AdminClient.list_topics"
    if (pid := _reuse(settings, "kafka", ready, timeout, what)) is not None:
        return ServiceStatus("kafka", True, pid, bootstrap, "already running")
    _require_free("kafka", service_ports(settings, "kafka"))
    lib = _kafka_lib(settings)
    if not (lib / ".installed").is_file():
        raise ServiceError("kafka is not installed: run install_kafka() or `lakehouse up`")
    java = _require_tool("java", "run the Kafka broker")
    folder = _proc_dir(settings, "kafka")
    data = Path(data_dir) if data_dir else folder / "data"
    data.mkdir(parents=True, exist_ok=True)
    # Written on every start (one broker runs at a time) so it always names the data in use.
    props = folder / "server.properties"
    props.write_text(
        Template((SERVICE_FILES / "kafka-server.properties").read_text()).substitute(
            host=host, port=port, controller_port=port + 1, data_dir=data.resolve()
        )
    )
    log4j = folder / "log4j2.properties"
    shutil.copyfile(SERVICE_FILES / "kafka-log4j2.properties", log4j)
    jvm = [java, "-Djava.awt.headless=true", f"-Dlog4j2.configurationFile={log4j}", "-cp", f"{lib}/*"]
    env = _child_env({})
    if not (data / "meta.properties").is_file():
        fmt = subprocess.run(
            [*jvm, "kafka.tools.StorageTool", "format", "-t", _kafka_cluster_id(), "-c", str(props)],
            env=env,
            cwd=folder,
            capture_output=True,
            text=True,
            check=False,
        )
        if fmt.returncode != 0:
            tail = "\n".join((fmt.stdout + fmt.stderr).splitlines()[-25:])
            raise ServiceError(f"kafka storage format of {data} failed (exit {fmt.returncode})", log_tail=tail)
    argv: list[str | Path] = [*jvm[:1], KAFKA_HEAP, *jvm[1:], "kafka.Kafka", props]
    pid = _launch(settings, "kafka", argv, env, folder)
    waited = _wait_ready(settings, "kafka", pid, ready, timeout, what)
    return ServiceStatus("kafka", True, pid, bootstrap, f"started, ready in {waited:.1f} s")


# --------------------------------------------------------------------------- Prefect


def prefect_url(port: int = PREFECT_PORT) -> str:
    return f"http://{PREFECT_HOST}:{port}"


def _prefect_ready(port: int) -> Callable[[], bool]:
    url = f"{prefect_url(port)}/api/health"
    return lambda: _http_json(url) is True


def start_prefect_server(
    settings: Settings, data_dir: Path | None = None, port: int = PREFECT_PORT, timeout: float = 120.0
) -> ServiceStatus:
    """Start ``prefect server start`` with its own PREFECT_HOME (database, profiles).

    Point flows at it with ``PREFECT_API_URL=http://127.0.0.1:<port>/api``.
    """
    ready, what = _prefect_ready(port), "/api/health"
    url = prefect_url(port)
    if (pid := _reuse(settings, "prefect", ready, timeout, what)) is not None:
        return ServiceStatus("prefect", True, pid, url, "already running")
    _require_free("prefect", service_ports(settings, "prefect", prefect_port=port))
    folder = _proc_dir(settings, "prefect")
    home = Path(data_dir) if data_dir else folder / "home"
    home.mkdir(parents=True, exist_ok=True)
    env = _child_env(
        {
            "PREFECT_HOME": str(home.resolve()),
            "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
            "PREFECT_LOGGING_COLORS": "false",
        },
        drop_prefixes=("PREFECT_",),
    )
    argv = [sys.executable, "-m", "prefect", "server", "start", "--host", PREFECT_HOST, "--port", str(port)]
    pid = _launch(settings, "prefect", argv, env, folder)
    waited = _wait_ready(settings, "prefect", pid, ready, timeout, what)
    return ServiceStatus("prefect", True, pid, url, f"started, ready in {waited:.1f} s")


# --------------------------------------------------------------------------- Spark standalone


def _spark_home() -> Path:
    import pyspark

    return Path(pyspark.__file__).resolve().parent


def _alive_workers(host: str, ui_port: int) -> int | None:
    data = _http_json(f"http://{host}:{ui_port}/json/")
    if not isinstance(data, dict):
        return None
    return sum(1 for w in data.get("workers", []) if w.get("state") == "ALIVE")


def start_spark_cluster(
    settings: Settings,
    data_dir: Path | None = None,
    master_ui_port: int = SPARK_MASTER_UI_PORT,
    worker_ui_port: int = SPARK_WORKER_UI_PORT,
    cores: int = SPARK_WORKER_CORES,
    memory: str = SPARK_WORKER_MEMORY,
    timeout: float = 120.0,
) -> ServiceStatus:
    """Start a standalone master and one worker from the pip pyspark package.

    pip's pyspark has no ``sbin/start-*.sh``, so both run through ``bin/spark-class`` in the
    foreground of a detached session. Ready means the master UI lists the worker as ALIVE,
    because a session submitted before that waits with "Initial job has not accepted any
    resources".
    """
    host, port = spark_master_address(settings)
    master_url = f"spark://{host}:{port}"

    def master_ready() -> bool:
        return port_open(host, port) and _alive_workers(host, master_ui_port) is not None

    def worker_ready() -> bool:
        return (_alive_workers(host, master_ui_port) or 0) >= 1

    master_pid = _reuse(settings, "spark-master", master_ready, timeout, "port and web UI")
    worker_pid = running_pid(settings, "spark-worker")
    if master_pid is not None and worker_pid is not None:
        _wait_ready(settings, "spark-worker", worker_pid, worker_ready, timeout, "registered as ALIVE")
        return ServiceStatus("spark-master", True, master_pid, master_url, "already running")

    java = _require_tool("java", "run the Spark master and worker")
    spark_home = _spark_home()
    spark_class = spark_home / "bin" / "spark-class"
    launcher: list[str | Path] = [spark_class] if os.access(spark_class, os.X_OK) else ["bash", spark_class]
    folder = _proc_dir(settings, "spark-master")
    data = Path(data_dir) if data_dir else folder / "data"
    work = data / "work"
    work.mkdir(parents=True, exist_ok=True)
    env = _child_env(
        {
            "SPARK_HOME": str(spark_home),
            "SPARK_LOCAL_IP": host,
            "SPARK_WORKER_DIR": str(work.resolve()),
            "JAVA_HOME": os.environ.get("JAVA_HOME") or str(Path(java).resolve().parent.parent),
        },
        drop_prefixes=("SPARK_",),
    )
    started = time.monotonic()
    if master_pid is None:
        _require_free("spark master", [(host, port), (host, master_ui_port)])
        master_pid = _launch(
            settings,
            "spark-master",
            [
                *launcher,
                "org.apache.spark.deploy.master.Master",
                "--host",
                host,
                "--port",
                str(port),
                "--webui-port",
                str(master_ui_port),
            ],
            env,
            data,
        )
        _wait_ready(settings, "spark-master", master_pid, master_ready, timeout, "port and web UI")
    if worker_pid is None:
        _require_free("spark worker", [(host, worker_ui_port)])
        worker_pid = _launch(
            settings,
            "spark-worker",
            [
                *launcher,
                "org.apache.spark.deploy.worker.Worker",
                master_url,
                "--host",
                host,
                "--cores",
                str(cores),
                "--memory",
                memory,
                "--webui-port",
                str(worker_ui_port),
                "--work-dir",
                work.resolve(),
            ],
            env,
            data,
        )
    _wait_ready(settings, "spark-worker", worker_pid, worker_ready, timeout, "registered as ALIVE")
    waited = time.monotonic() - started
    return ServiceStatus(
        "spark-master", True, master_pid, master_url, f"started with 1 worker, ready in {waited:.1f} s"
    )


# --------------------------------------------------------------------------- stop / status


def _group_members(pgid: int) -> list[int]:
    """Live (non-zombie) processes of a process group, from /proc."""
    members = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if fields[0] != "Z" and int(fields[2]) == pgid:
            members.append(int(entry.name))
    return members


def _group_alive(pgid: int) -> bool:
    _pid_alive(pgid)  # reaps our own child if it has exited
    if Path("/proc").is_dir():
        return bool(_group_members(pgid))
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    return True


def _signal_group(pgid: int, sig: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, sig)


def _stop_proc(settings: Settings, proc: str, timeout: float) -> bool:
    pid = running_pid(settings, proc)
    if pid is None:
        pid_file(settings, proc).unlink(missing_ok=True)
        return False
    # start_new_session made the process a group leader: its pid is the group id, and the
    # group holds its children (Prefect's API server, spark-class's JVM, ...).
    try:
        pgid = pid if os.getpgid(pid) == pid else None
    except ProcessLookupError:  # exited between the check and now
        pid_file(settings, proc).unlink(missing_ok=True)
        return True
    target_alive = (lambda: _group_alive(pid)) if pgid else (lambda: _pid_alive(pid))
    if pgid:
        _signal_group(pgid, signal.SIGTERM)
    else:
        os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while target_alive() and time.monotonic() < deadline:
        time.sleep(0.2)
    if target_alive():
        log.warning("%s (pid %d) ignored SIGTERM for %.0f s; sending SIGKILL", proc, pid, timeout)
        if pgid:
            _signal_group(pgid, signal.SIGKILL)
        else:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        deadline = time.monotonic() + 10
        while target_alive() and time.monotonic() < deadline:
            time.sleep(0.2)
    child = _CHILDREN.pop(pid, None)
    if child is not None:
        with contextlib.suppress(subprocess.TimeoutExpired):
            child.wait(timeout=5)
    pid_file(settings, proc).unlink(missing_ok=True)
    return True


def stop(settings: Settings, name: str, timeout: float = STOP_TIMEOUT) -> bool:
    """Stop a service (``spark`` = worker then master) or one process; True if anything ran."""
    if name in _SERVICE_PROCS:
        procs = tuple(reversed(_SERVICE_PROCS[name]))
    elif name in _PROCS:
        procs = (name,)
    else:
        raise ServiceError(f"unknown service {name!r}; expected one of {', '.join(SERVICES)}")
    stopped = False
    for proc in procs:
        stopped = _stop_proc(settings, proc, timeout) or stopped
    return stopped


def stop_all(settings: Settings, timeout: float = STOP_TIMEOUT) -> list[str]:
    """Stop everything, dependents first (Spark and Prefect before the stores they use)."""
    return [name for name in reversed(SERVICES) if stop(settings, name, timeout)]


def status(settings: Settings) -> list[ServiceStatus]:
    """One row per managed process; ``running`` means our process is alive, ``detail`` its health."""
    m_host, m_port = spark_master_address(settings)
    probes: dict[str, tuple[str, Callable[[], bool]]] = {
        "minio": (settings.s3_endpoint, _minio_ready(settings)),
        "kafka": (settings.kafka_bootstrap, _kafka_ready(settings)),
        "prefect": (prefect_url(), _prefect_ready(PREFECT_PORT)),
        "spark-master": (
            f"spark://{m_host}:{m_port}",
            lambda: _alive_workers(m_host, SPARK_MASTER_UI_PORT) is not None,
        ),
        "spark-worker": (
            f"http://{m_host}:{SPARK_WORKER_UI_PORT}",
            lambda: _http_get(f"http://{m_host}:{SPARK_WORKER_UI_PORT}/json/") is not None,
        ),
    }
    rows = []
    for proc, (url, probe) in probes.items():
        had_file = pid_file(settings, proc).exists()
        pid = running_pid(settings, proc)
        if pid is None:
            detail = "stopped (stale pid file removed)" if had_file else "stopped"
            rows.append(ServiceStatus(proc, False, None, url, detail))
            continue
        try:
            healthy = probe()
        except Exception:
            healthy = False
        detail = "healthy" if healthy else "process alive but not answering"
        if proc == "spark-master" and healthy:
            detail = f"healthy, {_alive_workers(m_host, SPARK_MASTER_UI_PORT)} alive worker(s)"
        rows.append(ServiceStatus(proc, True, pid, url, detail))
    return rows


# --------------------------------------------------------------------------- up / down


def up(settings: Settings, services: list[str] | None = None, spark_cluster: bool = False) -> list[ServiceStatus]:
    """Install on first use and start ``services`` (default minio, kafka, prefect), then the bucket.

    Credentials are checked before any install so a missing key fails in a second, not
    after a three-minute build.
    """
    wanted = list(services) if services else list(DEFAULT_SERVICES)
    if spark_cluster and "spark" not in wanted:
        wanted.append("spark")
    unknown = [s for s in wanted if s not in SERVICES]
    if unknown:
        raise ServiceError(f"unknown service(s) {', '.join(unknown)}; expected some of {', '.join(SERVICES)}")
    if "minio" in wanted:
        _minio_credentials(settings)
        _dashboard_credentials(settings)
    started: list[ServiceStatus] = []
    for name in SERVICES:  # fixed order: stores first
        if name not in wanted:
            continue
        if name == "minio":
            install_minio(settings)
            started.append(start_minio(settings))
            ensure_bucket(settings)
            ensure_readonly_user(settings)
        elif name == "kafka":
            install_kafka(settings)
            started.append(start_kafka(settings))
        elif name == "prefect":
            started.append(start_prefect_server(settings))
        elif name == "spark":
            started.append(start_spark_cluster(settings))
    return started


def down(settings: Settings) -> list[str]:
    """Stop every service this project started; returns the names that were running."""
    return stop_all(settings)
