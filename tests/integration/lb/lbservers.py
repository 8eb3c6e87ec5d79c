# SPDX-License-Identifier: MIT
"""Health-check targets for the traffic-management tests: HTTP(S) and TCP/TLS servers on their
own 127.0.0.x addresses whose answers the test changes at run time, and test certificates made
with `openssl` (a CA, a certificate for a name, one for another name, an expired one).

    ca = Certs(tmp)                              # CA in tmp/certs
    good = ca.issue("www.example.com")           # (cert path, key path)
    old = ca.issue("www.example.com", expired=True)
    servers = group(HttpTarget, ["127.0.0.11", "127.0.0.12"])   # one port free on both
    servers[0].set(status=503, body="down")      # the next requests get this
    servers[0].requests()                        # what it was asked: method, path, headers, body
    stop_all()                                   # in a finally block (run_cases' cleanup)

Every server runs in daemon threads of the test process and is stopped by stop_all().
"""

import os
import socket
import socketserver
import ssl
import subprocess
import threading
import time
from http.server import BaseHTTPRequestHandler

_LIVE = []  # every server started in this process, for stop_all()


class _Base:
    """A threaded TCP server on (address, port) with a lock-protected answer and a request log.
    ssl_context: each accepted connection is wrapped (server side) in its own thread."""

    def __init__(self, address, port=0, ssl_context=None):
        self.address = address
        self.ssl_context = ssl_context
        self._lock = threading.Lock()
        self._requests = []
        self.handshake_failures = 0
        outer = self

        class Server(socketserver.ThreadingMixIn, socketserver.TCPServer):
            allow_reuse_address = True
            daemon_threads = True
            request_queue_size = 128

            def finish_request(self, request, client_address):
                if outer.ssl_context is not None:
                    request.settimeout(5)
                    try:
                        request = outer.ssl_context.wrap_socket(request, server_side=True)
                    except (ssl.SSLError, OSError):
                        with outer._lock:
                            outer.handshake_failures += 1
                        return
                outer._serve(request, client_address)

            def handle_error(self, request, client_address):
                pass  # a probe that hangs up early is not a test failure

        self._server = Server((address, port), None)
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(target=self._server.serve_forever,
                                        kwargs={"poll_interval": 0.05}, daemon=True)
        self._thread.start()
        _LIVE.append(self)

    def __repr__(self):
        return "%s(%s:%d)" % (type(self).__name__, self.address, self.port)

    def _record(self, entry):
        entry["at"] = time.monotonic()
        with self._lock:
            self._requests.append(entry)

    def requests(self):
        """Every request so far (dicts), oldest first."""
        with self._lock:
            return list(self._requests)

    def count(self):
        with self._lock:
            return len(self._requests)

    def stop(self):
        """Closes the listening socket: new connections are refused."""
        if self in _LIVE:
            _LIVE.remove(self)
        self._server.shutdown()
        self._server.server_close()


class HttpTarget(_Base):
    """HTTP/1.1 server answering every GET/POST/HEAD with the current (status, body, headers);
    set() changes it for the next requests. Requests are logged as dicts with method, path,
    headers (lowercase names), body (bytes)."""

    def __init__(self, address, port=0, ssl_context=None, status=200, body="OK"):
        self._answer = (status, body, 0.0)
        super().__init__(address, port, ssl_context)

    def set(self, status=None, body=None, delay=None):
        with self._lock:
            s, b, d = self._answer
            self._answer = (s if status is None else status, b if body is None else body,
                            d if delay is None else delay)

    def _serve(self, request, client_address):
        outer = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            timeout = 5

            def log_message(self, *args):
                pass

            def _answer(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                outer._record({"method": self.command, "path": self.path, "body": body,
                               "headers": {k.lower(): v for k, v in self.headers.items()},
                               "client": client_address})
                with outer._lock:
                    status, text, delay = outer._answer
                if delay:
                    time.sleep(delay)
                data = text.encode()
                self.send_response(status)
                self.send_header("Content-Type", "text/plain")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(data)

            do_GET = do_POST = do_HEAD = _answer

        try:
            Handler(request, client_address, self._server)
        except (OSError, ssl.SSLError):
            pass
        finally:
            try:
                request.close()
            except OSError:
                pass


class TcpTarget(_Base):
    """TCP (or, with ssl_context, TLS) server: reads what the client sends (until `expect`
    arrived, or 1 s of silence, or EOF), logs it, writes `reply` and closes. reply None: closes
    without writing."""

    def __init__(self, address, port=0, ssl_context=None, reply="PONG\r\n", expect="\n"):
        self.reply = reply
        self.expect = expect.encode()
        super().__init__(address, port, ssl_context)

    def set(self, reply):
        with self._lock:
            self.reply = reply

    def _serve(self, request, client_address):
        got = b""
        try:
            request.settimeout(1.0)
            while self.expect not in got:
                try:
                    chunk = request.recv(4096)
                except (socket.timeout, ssl.SSLError):
                    break
                if not chunk:
                    break
                got += chunk
            self._record({"data": got, "client": client_address})
            with self._lock:
                reply = self.reply
            if reply is not None:
                request.sendall(reply.encode())
                time.sleep(0.05)  # let the client read before the close
        except OSError:
            pass
        finally:
            try:
                request.close()
            except OSError:
                pass


def group(cls, addresses, **kw):
    """One `cls` server on each address, all on the same port (a check's `port` is shared by
    its members). Retries with other ports while one is taken on any address."""
    last = None
    for _ in range(50):
        servers = []
        try:
            first = cls(addresses[0], 0, **kw)
            servers.append(first)
            for a in addresses[1:]:
                servers.append(cls(a, first.port, **kw))
            return servers
        except OSError as e:
            last = e
            for s in servers:
                s.stop()
    raise RuntimeError("no port free on every one of %s: %s" % (addresses, last))


def port_free_on(addresses):
    """A TCP port on which nothing listens on any of the addresses (for a target that is down:
    connection refused)."""
    for _ in range(100):
        probe = socket.socket()
        probe.bind((addresses[0], 0))
        port = probe.getsockname()[1]
        probe.close()
        ok = True
        for a in addresses:
            s = socket.socket()
            try:
                s.bind((a, port))
            except OSError:
                ok = False
            finally:
                s.close()
        if ok:
            return port
    raise RuntimeError("no free port on %s" % addresses)


def stop_all():
    for s in list(_LIVE):
        try:
            s.stop()
        except OSError:
            pass


# --- certificates ----------------------------------------------------------------------------

_CA_CNF = """[ ca ]
default_ca = test_ca
[ test_ca ]
dir = {dir}
database = {dir}/index.txt
new_certs_dir = {dir}/issued
serial = {dir}/serial
default_md = sha256
policy = anything
copy_extensions = copy
unique_subject = no
email_in_dn = no
[ anything ]
commonName = supplied
[ leaf ]
basicConstraints = CA:FALSE
keyUsage = digitalSignature, keyEncipherment
extendedKeyUsage = serverAuth
"""


def _openssl(*args, cwd=None):
    r = subprocess.run(["openssl"] + list(args), capture_output=True, text=True, cwd=cwd,
                       timeout=30)
    if r.returncode != 0:
        raise RuntimeError("openssl %s failed (%d): %s%s" % (" ".join(args), r.returncode,
                                                             r.stdout, r.stderr))
    return r.stdout


class Certs:
    """A test CA in `tmp`/certs (EC P-256 keys: fast) that issues server certificates with
    `openssl ca`, which takes explicit dates: an expired certificate is one whose validity
    ended in 2021 (openssl x509 -days cannot go negative)."""

    def __init__(self, tmp):
        self.dir = os.path.join(tmp, "certs")
        os.makedirs(os.path.join(self.dir, "issued"), exist_ok=True)
        open(os.path.join(self.dir, "index.txt"), "w").close()
        with open(os.path.join(self.dir, "serial"), "w") as f:
            f.write("1000\n")
        self.cnf = os.path.join(self.dir, "ca.cnf")
        with open(self.cnf, "w") as f:
            f.write(_CA_CNF.format(dir=self.dir))
        self.ca_key = os.path.join(self.dir, "ca.key")
        self.ca = os.path.join(self.dir, "ca.pem")
        _openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
                 "-nodes", "-keyout", self.ca_key, "-out", self.ca, "-days", "30",
                 "-subj", "/CN=holdfast test CA", "-addext", "basicConstraints=critical,CA:TRUE",
                 "-addext", "keyUsage=critical,keyCertSign,cRLSign")
        self._n = 0

    def issue(self, name, expired=False):
        """A certificate for DNS name `name` signed by the CA: (cert path, key path)."""
        self._n += 1
        base = os.path.join(self.dir, "%s-%d" % (name, self._n))
        key, csr, crt = base + ".key", base + ".csr", base + ".pem"
        _openssl("req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
                 "-nodes", "-keyout", key, "-out", csr, "-subj", "/CN=%s" % name,
                 "-addext", "subjectAltName=DNS:%s" % name)
        if expired:
            dates = ["-startdate", "20200101000000Z", "-enddate", "20210101000000Z"]
        else:
            dates = ["-days", "30"]
        _openssl("ca", "-batch", "-config", self.cnf, "-cert", self.ca, "-keyfile", self.ca_key,
                 "-in", csr, "-out", crt, "-extensions", "leaf", "-notext", *dates)
        return crt, key

    def context(self, name, expired=False):
        """A server-side ssl.SSLContext presenting a new certificate for `name`."""
        crt, key = self.issue(name, expired)
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(crt, key)
        return ctx

    def client_check(self, address, port, name):
        """Verifies a server with the CA as a client would (for the harness self-test): None if
        fine, else the error text."""
        ctx = ssl.create_default_context(cafile=self.ca)
        try:
            with socket.create_connection((address, port), timeout=3) as raw:
                with ctx.wrap_socket(raw, server_hostname=name):
                    return None
        except (ssl.SSLError, OSError) as e:
            return str(e)
