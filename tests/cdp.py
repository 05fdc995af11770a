"""A headless Chromium driven over the Chrome DevTools Protocol (tests and bench/bench_index.py).

Debian's ``chromium`` (``apt-get install chromium``); ``websocket-client`` for the protocol.
Console errors, uncaught exceptions and failed loads are collected in ``Browser.errors``.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-quic",
    "--no-first-run",
    "--no-default-browser-check",
    "--remote-debugging-port=0",
)


class Browser:
    def __init__(self, executable: str | None = CHROMIUM, timeout: float = 60) -> None:
        import websocket

        if executable is None:
            raise RuntimeError("Chromium is not installed")
        self.profile = Path(tempfile.mkdtemp(prefix="chromium-"))
        self.proc = subprocess.Popen(
            [executable, *FLAGS, f"--user-data-dir={self.profile}", "about:blank"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        self.timeout = timeout
        port_file = self.profile / "DevToolsActivePort"
        deadline = time.monotonic() + timeout
        while not (port_file.exists() and port_file.read_text().strip()):
            if time.monotonic() > deadline or self.proc.poll() is not None:
                self.close()
                raise RuntimeError("Chromium did not start")
            time.sleep(0.05)
        port = int(port_file.read_text().split()[0])
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list", timeout=10) as r:
            pages = [t for t in json.load(r) if t["type"] == "page"]
        self.ws = websocket.create_connection(
            pages[0]["webSocketDebuggerUrl"], timeout=timeout, suppress_origin=True
        )
        self.ids = 0
        self.events: list[dict] = []
        self.errors: list[str] = []
        for domain in ("Page", "Runtime", "Log", "Network"):
            self.send(f"{domain}.enable")

    def _record(self, msg: dict) -> None:
        method, p = msg.get("method"), msg.get("params", {})
        if method == "Runtime.exceptionThrown":
            self.errors.append(json.dumps(p["exceptionDetails"])[:500])
        elif method == "Runtime.consoleAPICalled" and p.get("type") in ("error", "assert"):
            self.errors.append(json.dumps(p.get("args"))[:500])
        elif method == "Log.entryAdded" and p["entry"]["level"] == "error":
            self.errors.append(p["entry"].get("text", "") + " " + p["entry"].get("url", ""))
        elif method == "Network.loadingFailed":
            self.errors.append("failed to load: " + json.dumps(p)[:300])
        self.events.append(msg)

    def send(self, method: str, params: dict | None = None) -> dict:
        self.ids += 1
        ident = self.ids
        self.ws.send(json.dumps({"id": ident, "method": method, "params": params or {}}))
        while True:
            msg = json.loads(self.ws.recv())
            if msg.get("id") == ident:
                if "error" in msg:
                    raise RuntimeError(f"{method}: {msg['error']}")
                return msg.get("result", {})
            self._record(msg)

    def wait_for(self, method: str) -> dict:
        deadline = time.monotonic() + self.timeout
        for i, msg in enumerate(self.events):
            if msg.get("method") == method:
                del self.events[: i + 1]
                return msg
        while time.monotonic() < deadline:
            msg = json.loads(self.ws.recv())
            self._record(msg)
            if msg.get("method") == method:
                self.events.clear()
                return msg
        raise TimeoutError(method)

    def open(self, path: Path) -> float:
        """Load a file; return seconds until its load event."""
        self.events.clear()
        start = time.perf_counter()
        self.send("Page.navigate", {"url": path.resolve().as_uri()})
        self.wait_for("Page.loadEventFired")
        return time.perf_counter() - start

    def eval(self, expression: str) -> Any:
        result = self.send(
            "Runtime.evaluate",
            {"expression": expression, "returnByValue": True, "awaitPromise": True},
        )
        if "exceptionDetails" in result:
            raise RuntimeError(json.dumps(result["exceptionDetails"])[:500])
        return result["result"].get("value")

    def frames(self, n: int = 2) -> None:
        """Let ``n`` animation frames pass (the register filters on the next frame)."""
        self.eval(
            "new Promise(r => { let n = " + str(n) + "; const f = () => --n ? "
            "requestAnimationFrame(f) : r(true); requestAnimationFrame(f); })"
        )

    def type(self, text: str) -> None:
        self.send("Input.insertText", {"text": text})

    def key(self, key: str, code: int, shift: bool = False) -> None:
        mods = 8 if shift else 0
        for kind in ("rawKeyDown", "keyUp"):
            self.send(
                "Input.dispatchKeyEvent",
                {
                    "type": kind,
                    "key": key,
                    "code": key,
                    "windowsVirtualKeyCode": code,
                    "modifiers": mods,
                },
            )

    def close(self) -> None:
        ws = getattr(self, "ws", None)
        if ws is not None:
            ws.close()
        self.proc.terminate()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        shutil.rmtree(self.profile, ignore_errors=True)
