"""A C2SP tlog-witness (c2sp.org/tlog-witness) on loopback, for the witness tests.

It does what a real witness does: verifies the log's signature, checks the old size
against the size it cosigned last (409 with ``text/x.tlog.size`` otherwise), verifies the
RFC 9162 consistency proof (422), records the new tree atomically and answers with an
Ed25519 cosignature/v1 (c2sp.org/tlog-cosignature).
"""

from __future__ import annotations

import base64
import struct
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from cyberqms.platform.trail.merkle import EMPTY_ROOT, ProofError, check_consistency
from cyberqms.platform.trail.note import NoteError, open_checkpoint
from cyberqms.platform.trail.witness import CosignerKey, cosigned_message, cosigner_key_id


@dataclass
class WitnessState:
    name: str
    origin: str
    log_keys: list[str]
    private: Ed25519PrivateKey = field(default_factory=Ed25519PrivateKey.generate)
    size: int = 0
    root: bytes = EMPTY_ROOT
    requests: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def key(self) -> CosignerKey:
        public = self.private.public_key().public_bytes(
            serialization.Encoding.Raw, serialization.PublicFormat.Raw
        )
        return CosignerKey(self.name, cosigner_key_id(self.name, public), public)

    def cosign(self, checkpoint_text: str) -> str:
        timestamp = int(time.time())
        signature = self.private.sign(cosigned_message(checkpoint_text, timestamp))
        raw = self.key.key_id + struct.pack(">Q", timestamp) + signature
        return f"\u2014 {self.name} {base64.b64encode(raw).decode('ascii')}\n"

    def add_checkpoint(self, body: str) -> tuple[int, str, str]:
        """(status, content type, body) for one add-checkpoint request."""
        self.requests.append(body)
        head, sep, note = body.partition("\n\n")
        lines = head.split("\n")
        if not sep or not lines[0].startswith("old "):
            return 400, "text/plain", "malformed request\n"
        try:
            old = int(lines[0][4:])
            proof = [base64.b64decode(line, validate=True) for line in lines[1:]]
            checkpoint, opened = open_checkpoint(note, self.log_keys)
        except (ValueError, NoteError):
            return 403, "text/plain", "no trusted signature\n"
        if checkpoint.origin != self.origin:
            return 404, "text/plain", "unknown log\n"
        if old > checkpoint.size:
            return 400, "text/plain", "old size beyond the checkpoint\n"
        with self.lock:
            if old != self.size:
                return 409, "text/x.tlog.size", f"{self.size}\n"
            if old == checkpoint.size and checkpoint.root_hash != self.root:
                return 409, "text/x.tlog.size", f"{self.size}\n"
            try:
                check_consistency(old, checkpoint.size, self.root, checkpoint.root_hash, proof)
            except ProofError:
                return 422, "text/plain", "consistency proof does not verify\n"
            self.size, self.root = checkpoint.size, checkpoint.root_hash
        return 200, "text/plain; charset=utf-8", self.cosign(opened.text)


@contextmanager
def running_witness(state: WitnessState) -> Iterator[str]:
    """Serve `state` on a free loopback port; yields the submission prefix URL."""

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            if self.path != "/w/add-checkpoint":
                self.send_error(404)
                return
            length = int(self.headers.get("Content-Length", "0"))
            status, kind, text = state.add_checkpoint(self.rfile.read(length).decode("utf-8"))
            data = text.encode("utf-8")
            self.send_response(status)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format: str, *args: object) -> None:
            """Quiet: the tests assert on the state, not the log."""

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/w"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
