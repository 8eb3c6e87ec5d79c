#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
# Servers for tests/unit/lb/monitor_test.cc: makes a CA and certificates with openssl (good.test,
# other.test, an expired good.test), listens on 127.0.0.1 free ports (HTTP, HTTPS x3, a silent
# TCP port, a TCP and a TLS PING/PONG service) and prints them as one JSON line, then serves
# until killed.
import http.server
import json
import os
import socket
import socketserver
import ssl
import subprocess
import sys
import threading
import time

CA_CNF = """[ca]
default_ca = c
[c]
dir = {d}/db
database = {d}/db/index.txt
serial = {d}/db/serial
new_certs_dir = {d}/db
default_md = sha256
policy = p
copy_extensions = copy
unique_subject = no
[p]
commonName = supplied
[good]
subjectAltName = DNS:good.test
[other]
subjectAltName = DNS:other.test
"""


def openssl(*args):
    subprocess.run(["openssl", *args], check=True, stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL)


def make_certs(d):
    os.makedirs(f"{d}/db", exist_ok=True)
    open(f"{d}/db/index.txt", "w").close()
    with open(f"{d}/db/serial", "w") as f:
        f.write("01\n")
    with open(f"{d}/ca.cnf", "w") as f:
        f.write(CA_CNF.format(d=d))
    ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
    openssl("req", "-x509", *ec, "-keyout", f"{d}/ca.key", "-out", f"{d}/ca.pem",
            "-days", "30", "-subj", "/CN=holdfast-test-ca")
    for name, ext, dates in (("good", "good", ["-days", "30"]),
                             ("other", "other", ["-days", "30"]),
                             ("expired", "good", ["-startdate", "20200101000000Z",
                                                  "-enddate", "20200201000000Z"])):
        openssl("req", *ec, "-keyout", f"{d}/{name}.key", "-out", f"{d}/{name}.csr",
                "-subj", f"/CN={ext}.test")
        openssl("ca", "-batch", "-config", f"{d}/ca.cnf", "-cert", f"{d}/ca.pem", "-keyfile",
                f"{d}/ca.key", "-in", f"{d}/{name}.csr", "-out", f"{d}/{name}.pem",
                "-extensions", ext, *dates)


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def reply(self, code, body=b"hello OK world\n"):
        self.send_response(code)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        p = self.path
        if p == "/hang":
            time.sleep(3600)
        elif p.startswith("/status/"):
            self.reply(int(p[len("/status/"):]))
        elif p == "/big":  # the needle lies past the first 64 KiB
            self.reply(200, b"a" * 70000 + b"NEEDLE" + b"b" * 200000)
        elif p == "/host":
            self.reply(200, ("host=" + str(self.headers.get("Host"))).encode())
        elif p == "/redirect":
            self.send_response(302)
            self.send_header("Location", "/")
            self.send_header("Content-Length", "0")
            self.end_headers()
        else:
            self.reply(200)

    def do_POST(self):
        n = int(self.headers.get("Content-Length", "0"))
        body = self.rfile.read(n)
        ok = (self.path == "/post" and body == b'{"probe":1}'
              and self.headers.get("X-Probe") == "holdfast"
              and self.headers.get("Content-Type") == "application/json")
        self.reply(200 if ok else 400, b"posted" if ok else b"bad post")


class Http(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True


class PingPong(socketserver.BaseRequestHandler):
    def handle(self):
        data = b""
        while b"\n" not in data:
            chunk = self.request.recv(1024)
            if not chunk:
                return
            data += chunk
        self.request.sendall(b"+PONG " + data.strip() + b"\r\n")
        time.sleep(0.5)


class Tcp(socketserver.ThreadingMixIn, socketserver.TCPServer):
    daemon_threads = True


def tls_context(d, name):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(f"{d}/{name}.pem", f"{d}/{name}.key")
    return ctx


def serve(server):
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server.server_address[1]


def main():
    d = sys.argv[1]
    make_certs(d)
    ports = {"http": serve(Http(("127.0.0.1", 0), Handler))}
    for name in ("good", "other", "expired"):
        srv = Http(("127.0.0.1", 0), Handler)
        srv.socket = tls_context(d, name).wrap_socket(srv.socket, server_side=True)
        ports["https_" + name] = serve(srv)
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(1024)  # accepted by the kernel, never read nor answered
    ports["silent"] = silent.getsockname()[1]
    ports["tcp"] = serve(Tcp(("127.0.0.1", 0), PingPong))
    tls = Tcp(("127.0.0.1", 0), PingPong)
    tls.socket = tls_context(d, "good").wrap_socket(tls.socket, server_side=True)
    ports["tls"] = serve(tls)
    free = socket.socket()
    free.bind(("127.0.0.1", 0))
    ports["closed"] = free.getsockname()[1]  # bound, never listening: refused
    print(json.dumps(ports), flush=True)
    while True:
        time.sleep(3600)


if __name__ == "__main__":
    main()
