"""Benchmark: issue 33's hostile inputs against a real ``imagepipe serve`` and real folders.

Serving cases run against ``imagepipe serve`` in its own process (127.0.0.1, a
free port, default limits) serving a small model that really decodes what it
is sent (:mod:`imagepipe.testing.serving_models`); the server's RSS is sampled
throughout. Ingestion cases run ``imagepipe inspect`` on generated folders,
its RSS sampled too. Prints one row per case: what the issue measured before
the fix, and what happens now.

    python bench/hostile_bench.py [--idle 500] [--skip-slow]

``--skip-slow`` leaves out the cases that wait for the 30 s channel timeout.
"""

from __future__ import annotations

import argparse
import base64
import io
import json
import os
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time
import zlib
from typing import Callable, List, Optional, Tuple

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import requests  # noqa: E402
from PIL import Image  # noqa: E402

from pipeline_bench import PeakMemory  # noqa: E402
from serving_bench import MODEL_NAME, Server  # noqa: E402

Row = Tuple[str, str, str]


def png(width: int, height: int) -> bytes:
    buffer = io.BytesIO()
    Image.new("L", (width, height), 200).save(buffer, format="PNG")
    return buffer.getvalue()


def bomb_png(side: int = 20000) -> bytes:
    """A real, decodable side x side black PNG (about 0.5 MB for 20000), built row by row."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return (struct.pack(">I", len(data)) + kind + data
                + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))

    compressor, rows, idat = zlib.compressobj(9), b"\0" * (side + 1) * 100, []
    for _ in range(side // 100):
        idat.append(compressor.compress(rows))
    idat.append(compressor.flush())
    header = struct.pack(">IIBBBBB", side, side, 8, 0, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", b"".join(idat))
            + chunk(b"IEND", b""))


def b64(data: bytes) -> dict:
    return {"b64": base64.b64encode(data).decode("ascii")}


def timed_post(url: str, body, timeout: float = 120) -> Tuple[str, float]:
    """(status or error, seconds) of one POST; ``body`` is JSON or raw bytes."""
    start = time.perf_counter()
    try:
        kwargs = {"data": body} if isinstance(body, (bytes, str)) else {"json": body}
        answer = requests.post(url, timeout=timeout, **kwargs)
        outcome = f"{answer.status_code}"
        if answer.status_code >= 400:
            outcome += f" {answer.json().get('error', '')!r}"
    except requests.RequestException as error:
        outcome = f"failed: {type(error).__name__}"
    return outcome, time.perf_counter() - start


def normal_predict(url: str) -> Tuple[str, float]:
    return timed_post(url, {"instances": [b64(png(28, 28))]})


def while_held(action: Callable[[], None], url: str) -> Tuple[str, float]:
    """A normal predict while ``action`` runs in a thread (started first)."""
    thread = threading.Thread(target=action, daemon=True)
    thread.start()
    time.sleep(0.2)
    result = normal_predict(url)
    thread.join()
    return result


# ---------------------------------------------------------------- serving cases


def idle_case(server: Server, url: str, count: int) -> Row:
    host, port = server.url.split("//")[1].split(":")
    idle = [socket.create_connection((host, int(port))) for _ in range(count)]
    try:
        status, seconds = normal_predict(url)
    finally:
        for connection in idle:
            connection.close()
    return (f"{count} idle connections held, then a 28x28 predict",
            "99 held: timed out at 15 s; 101: answered after 142 s",
            f"{status} in {seconds:.2f} s")


def bomb_cases(url: str) -> List[Row]:
    bomb = bomb_png()
    single, seconds = timed_post(url, {"instances": [b64(bomb)]})
    results: List[Tuple[str, float]] = []

    def eight_at_once():
        threads = [threading.Thread(target=lambda: results.append(timed_post(
            url, {"instances": [b64(bomb)]}))) for _ in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()

    normal, normal_seconds = while_held(eight_at_once, url)
    refused = sum(1 for status, _ in results if status.startswith("400"))
    return [
        (f"20000x20000 PNG ({len(bomb) / 1024:.0f} KB) in a predict",
         "200 after 17.8 s, server 0.9 -> 7.9 GB", f"{single} in {seconds:.2f} s"),
        ("8 such requests at once, a 28x28 predict meanwhile",
         "would take the machine down (8 x 7 GB)",
         f"{refused}/8 refused (400); the 28x28: {normal} in {normal_seconds:.2f} s"),
    ]


def big_integer_case(url: str) -> Row:
    status, seconds = timed_post(url, '{"instances": [' + "9" * 5000 + "]}")
    return ("a 5000-digit integer in the JSON", "500 (ValueError ... 4300 ...)",
            f"{status} in {seconds:.2f} s")


def slow_body_cases(server: Server, url: str, skip_slow: bool) -> List[Row]:
    host, port = server.url.split("//")[1].split(":")
    path = f"/v1/models/{MODEL_NAME}:predict"

    def trickle(seconds: int = 5):
        with socket.create_connection((host, int(port))) as connection:
            connection.sendall(f"POST {path} HTTP/1.1\r\nHost: x\r\nContent-Type: "
                               f"application/json\r\nContent-Length: 1000\r\n\r\n".encode())
            for _ in range(seconds):
                connection.sendall(b" ")
                time.sleep(1)

    status, seconds = while_held(trickle, url)
    rows = [("a body sent at 1 byte/s, a 28x28 predict meanwhile", "never cut off",
             f"{status} in {seconds:.2f} s (the trickle holds a slot, no worker)")]
    if not skip_slow:
        with socket.create_connection((host, int(port))) as silent:
            silent.settimeout(120)
            start = time.perf_counter()
            closed = silent.recv(1) == b""
            rows.append(("a connection that sends nothing", "dropped after 120 s",
                         f"{'closed' if closed else 'answered'} by the server after "
                         f"{time.perf_counter() - start:.0f} s (--channel-timeout 30)"))
    return rows


def unexpected_answer_case(workdir: str) -> Row:
    import logging  # pylint: disable=g-import-not-at-top
    from werkzeug import serving, wrappers  # pylint: disable=g-import-not-at-top
    logging.getLogger("werkzeug").setLevel(logging.WARNING)

    @wrappers.Request.application
    def app(request):
        body = {"predictions": [{"unexpected": 1}]} if request.method == "POST" else {}
        return wrappers.Response(json.dumps(body), mimetype="application/json")

    stand_in = serving.make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=stand_in.serve_forever, daemon=True).start()
    image = os.path.join(workdir, "x.png")
    with open(image, "wb") as f:
        f.write(png(28, 28))
    done = subprocess.run([sys.executable, "-m", "imagepipe.pipeline.cli", "predict", "--server",
                           f"http://127.0.0.1:{stand_in.server_port}", "--retries", "0", image],
                          capture_output=True, text=True, check=False)
    stand_in.shutdown()
    message = done.stderr.strip().splitlines()[-1]
    message = message.replace(f"http://127.0.0.1:{stand_in.server_port}", "URL")
    return ("imagepipe predict, server answers {predictions: [{unexpected: 1}]}",
            "KeyError: 'class_ids' traceback, exit 1", f"exit {done.returncode}: {message}")


# ---------------------------------------------------------------- ingestion cases


def _class_folders(root: str) -> None:
    for name in ("a", "b"):
        os.makedirs(os.path.join(root, name))
        for i in range(3):
            Image.new("RGB", (64, 48), (40 * i, 90 if name == "a" else 0, 9)).save(
                os.path.join(root, name, f"{i}.png"))


def inspect_case(root: str) -> Tuple[dict, float, float]:
    """``imagepipe inspect --json -`` on ``root``: (report, seconds, peak RSS MiB)."""
    start = time.perf_counter()
    process = subprocess.Popen([sys.executable, "-m", "imagepipe.pipeline.cli", "inspect", root,
                                "--json", "-"], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                               text=True)
    with PeakMemory(pid=process.pid) as memory:
        out, _ = process.communicate()
    return json.loads(out), time.perf_counter() - start, max(memory.peaks.values(), default=0)


def _skipped(report: dict, path: str) -> str:
    for entry in report["skipped_files"]:
        if entry["path"] == path:
            return f"{entry['reason']}: {entry['detail']}"
    return "not skipped"


def ingestion_cases(workdir: str) -> List[Row]:
    root = os.path.join(workdir, "photos")
    _class_folders(root)
    Image.new("RGB", (20000, 2)).save(os.path.join(root, "a", "wide.png"))
    with open(os.path.join(root, "a", "big.jpg"), "wb") as f:
        f.truncate(4 * 2**30)  # sparse: 4 GB of zeros, no disk used
    os.symlink("/etc", os.path.join(root, "a", "etc"))
    report, seconds, peak = inspect_case(root)
    leaked = any("root:" in entry["detail"] or "starts with" in entry["detail"]
                 for entry in report["skipped_files"])
    return [
        ("a 20000x2 photo in a class folder", "ingested (512x1), then Transform died unnamed",
         _skipped(report, "a/wide.png")),
        ("a 4 GB non-image big.jpg, imagepipe inspect",
         "4.2 GB RSS, 14.7 s, then not_an_image",
         f"{_skipped(report, 'a/big.jpg')}; inspect {seconds:.1f} s, peak {peak:.0f} MiB"),
        ("a link to /etc in a class folder", "1,098 files read; shadow's first bytes in report",
         f"{_skipped(report, 'a/etc/')}; entries under it: "
         f"{sum(1 for e in report['skipped_files'] if e['path'].startswith('a/etc/')) - 1}; "
         f"content in report: {'yes' if leaked else 'no'}"),
    ]


# ---------------------------------------------------------------- main


def table(rows: List[Row]) -> str:
    lines = ["| case | before (issue 33) | now |", "|---|---|---|"]
    lines += [f"| {case} | {before} | {now} |" for case, before, now in rows]
    return "\n".join(lines)


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--idle", type=int, default=500, help="idle connections held")
    parser.add_argument("--skip-slow", action="store_true",
                        help="skip the 30 s channel-timeout case")
    args = parser.parse_args(argv)
    from imagepipe.testing import serving_models  # pylint: disable=g-import-not-at-top
    rows: List[Row] = []
    with tempfile.TemporaryDirectory() as workdir:
        base = os.path.join(workdir, MODEL_NAME)
        serving_models.write_image_model(base)
        server = Server(base, threads=8)
        url = f"{server.url}/v1/models/{MODEL_NAME}:predict"
        try:
            with PeakMemory(pid=server.process.pid) as memory:
                memory.phase = "idle"
                normal_predict(url)
                memory.phase = "suite"
                rows.append(idle_case(server, url, args.idle))
                rows.extend(bomb_cases(url))
                rows.append(big_integer_case(url))
                rows.extend(slow_body_cases(server, url, args.skip_slow))
        finally:
            server.stop()
        rows.append(unexpected_answer_case(workdir))
        rows.extend(ingestion_cases(workdir))
    print(table(rows))
    print(f"\nserver peak RSS: {memory.peaks.get('idle', 0):.0f} MiB after a first predict, "
          f"{max(memory.peaks.values()):.0f} MiB through the whole suite (before: 7.9 GB after "
          f"one 20000x20000 PNG)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
