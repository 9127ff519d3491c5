"""A class on one machine: N Streamlit processes behind HAProxy with cookie affinity.

    python -m deploy.class_server [--replicas N] [--port 8501] [--host 0.0.0.0]    (make class)

Starts ``--replicas`` ``streamlit run serve.py`` processes (default: one per core) on loopback
ports ``--port``+1 … ``--port``+N, and HAProxy (Debian's package; scripts/ensure_haproxy.sh
installs it) on ``--host``:``--port`` in front of them (deploy/haproxy.cfg.in):

  * cookie-based affinity (``PPSERVER``): a browser stays on the process holding its session;
    a class behind one NAT (one IP) is still spread over the processes;
  * websockets proxied (HTTP upgrade, 1 h tunnel timeout);
  * one ``server.cookieSecret`` for every process (generated once, kept in the state folder),
    so a cookie Streamlit signs in one process is valid in all;
  * default models trained once for all processes: ``PRUNING_MODEL_CACHE`` points every
    process at one folder (pruning/app/model_cache.py).

Ctrl-C (or SIGTERM) stops the proxy and the processes. ``ClassServer`` does the same from
Python (``tests/load/capacity.py``, the smoke test).
"""
from __future__ import annotations

import argparse
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
AFFINITY_COOKIE = "PPSERVER"
DEFAULT_STATE = ROOT / ".class-server"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _healthy(url: str, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url + "/_stcore/health", timeout=2) as r:
                if r.status == 200:
                    return True
        except (urllib.error.URLError, ConnectionError, TimeoutError, OSError):
            pass
        time.sleep(0.1)
    return False


def haproxy_config(bind: str, backends: list[tuple[str, int]]) -> str:
    """The proxy's configuration for ``bind`` ("host:port") and (name, port) backends."""
    servers = "\n".join(f"    server {name} 127.0.0.1:{port} check cookie {name}"
                        for name, port in backends)
    return (ROOT / "deploy" / "haproxy.cfg.in").read_text().format(
        bind=bind, cookie=AFFINITY_COOKIE, servers=servers)


def cookie_secret(state: Path) -> str:
    """One secret for every process of the class, created on first use."""
    path = state / "cookie_secret"
    if not path.exists():
        state.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_hex(32))
        path.chmod(0o600)
    return path.read_text().strip()


class ClassServer:
    """``replicas`` app processes and one HAProxy; ``url`` is the proxy's address."""

    def __init__(self, replicas: int, port: int | None = None, host: str = "127.0.0.1",
                 state: Path | None = None, log_dir: Path | None = None,
                 extra_args: tuple[str, ...] = ()):
        self.replicas = max(1, replicas)
        self.host, self.port = host, port or _free_port()
        self.state = Path(state or DEFAULT_STATE)
        self.log_dir = Path(log_dir or self.state / "logs")
        self.extra_args = extra_args
        self.servers: list[tuple[str, int, subprocess.Popen]] = []
        self.proxy: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        host = "127.0.0.1" if self.host in ("0.0.0.0", "") else self.host
        return f"http://{host}:{self.port}"

    @property
    def pids(self) -> dict[str, int]:
        return {name: proc.pid for name, _, proc in self.servers}

    def start(self, timeout: float = 120.0) -> "ClassServer":
        subprocess.run(["bash", str(ROOT / "scripts" / "ensure_haproxy.sh")], check=True)
        self.log_dir.mkdir(parents=True, exist_ok=True)
        cache = self.state / "models"
        env = dict(os.environ, PYTHONUNBUFFERED="1", PRUNING_MODEL_CACHE=str(cache),
                   STREAMLIT_BROWSER_GATHER_USAGE_STATS="false",
                   # Streamlit takes the secret only from a config file or this variable
                   STREAMLIT_SERVER_COOKIE_SECRET=cookie_secret(self.state))
        for i in range(1, self.replicas + 1):
            name, port = f"app{i}", _free_port()
            log = open(self.log_dir / f"{name}.log", "w")
            proc = subprocess.Popen(
                [sys.executable, "-m", "streamlit", "run", "serve.py", "--server.headless", "true",
                 "--server.port", str(port), "--server.address", "127.0.0.1",
                 "--browser.gatherUsageStats", "false",
                 "--server.fileWatcherType", "none", *self.extra_args],
                cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, env=env)
            self.servers.append((name, port, proc))
        for name, port, proc in self.servers:
            if not _healthy(f"http://127.0.0.1:{port}", timeout):
                self.stop()
                raise RuntimeError(f"{name} did not start; see {self.log_dir / (name + '.log')}")
        cfg = self.state / "haproxy.cfg"
        cfg.write_text(haproxy_config(f"{self.host}:{self.port}",
                                      [(n, p) for n, p, _ in self.servers]))
        self.proxy = subprocess.Popen([shutil.which("haproxy") or "haproxy", "-db", "-f", str(cfg)],
                                      stdout=open(self.log_dir / "haproxy.log", "w"),
                                      stderr=subprocess.STDOUT)
        if not _healthy(self.url, 30):
            self.stop()
            raise RuntimeError(f"haproxy did not answer; see {self.log_dir / 'haproxy.log'}")
        return self

    def stop(self) -> None:
        procs = ([self.proxy] if self.proxy else []) + [p for _, _, p in self.servers]
        for proc in procs:
            if proc.poll() is None:
                proc.terminate()
        for proc in procs:
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=10)
        self.proxy, self.servers = None, []

    def __enter__(self) -> "ClassServer":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m deploy.class_server", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--replicas", type=int, default=os.cpu_count() or 1,
                   help="app processes (default: one per core)")
    p.add_argument("--port", type=int, default=8501, help="the proxy's port (default 8501)")
    p.add_argument("--host", default="0.0.0.0", help="the proxy's address (default all)")
    p.add_argument("--state", type=Path, default=DEFAULT_STATE,
                   help="folder for the shared secret, model cache, config and logs")
    args = p.parse_args(argv)
    server = ClassServer(args.replicas, args.port, args.host, args.state)
    stop = {"now": False}

    def on_signal(*_):
        stop["now"] = True

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    server.start()
    print(f"Class server: {server.url}  ({server.replicas} app processes behind HAProxy, "
          f"cookie {AFFINITY_COOKIE}; logs in {server.log_dir}). Ctrl-C stops it.", flush=True)
    try:
        while not stop["now"]:
            if any(proc.poll() is not None for _, _, proc in server.servers) or \
                    (server.proxy and server.proxy.poll() is not None):
                print("a process of the class server exited; stopping", file=sys.stderr)
                return 1
            time.sleep(0.5)
    finally:
        server.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
