"""A local Google Cloud Storage for tests: gcp-storage-emulator behind a proxy that TensorFlow's
own gs:// client talks to, all on 127.0.0.1.

TensorFlow 2.21's GCS filesystem has no endpoint setting: it always calls
https://www.googleapis.com/storage/v1/, https://www.googleapis.com/upload/storage/v1/ and
https://storage.googleapis.com/. It does honour libcurl's proxy variables (HTTPS_PROXY),
CURL_CA_BUNDLE, GOOGLE_AUTH_TOKEN_FOR_TESTING (a fixed token, no credentials looked up) and
NO_GCE_CHECK. So a process started with `environment()` sends every request to the proxy
here, which ends the TLS of those hosts with a self-signed certificate made for the test and
forwards the plain HTTP request to the emulator. Nothing leaves the machine.
"""

import contextlib
import http.client
import http.server
import json
import os
import socket
import ssl
import subprocess
import threading
import urllib.parse

from gcp_storage_emulator.server import create_server

BUCKET = 'test'

# Request headers the proxy does not pass on: its own, and Host, which names the emulator
# instead so that the resumable-upload URLs it hands out lead straight back to it.
_HOP_HEADERS = {'connection', 'expect', 'host', 'keep-alive', 'proxy-connection',
                'transfer-encoding'}

# TensorFlow marks a directory with an empty object that it uploads with uploadType=media; the
# emulator fails on an empty media upload but stores the same object sent as multipart.
_EMPTY_MULTIPART_BOUNDARY = 'empty-object'
_EMPTY_MULTIPART_BODY = b'\r\n'.join([
    b'--empty-object', b'Content-Type: application/json', b'', b'{}',
    b'--empty-object', b'Content-Type: application/octet-stream', b'', b'',
    b'--empty-object--', b''])


def _free_port():
    with socket.socket() as probe:
        probe.bind(('127.0.0.1', 0))
        return probe.getsockname()[1]


def _make_certificate(directory):
    """Writes a self-signed certificate for Google's storage hosts; returns (cert, key) paths."""
    cert, key = os.path.join(directory, 'cert.pem'), os.path.join(directory, 'key.pem')
    subprocess.run(
        ['openssl', 'req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1',
         '-keyout', key, '-out', cert, '-subj', '/CN=www.googleapis.com',
         '-addext', 'subjectAltName=DNS:www.googleapis.com,DNS:storage.googleapis.com'],
        check=True, capture_output=True)
    return cert, key


def _proxy_handler(tls_context, emulator_port):
    class ProxyHandler(http.server.BaseHTTPRequestHandler):
        protocol_version = 'HTTP/1.1'

        def do_CONNECT(self):  # noqa: N802 (http.server's naming)
            # The tunnel's TLS ends here; the requests inside it are then handled like any other.
            self.send_response(200)
            self.end_headers()
            self.connection = tls_context.wrap_socket(self.connection, server_side=True)
            self.rfile = self.connection.makefile('rb')
            self.wfile = self.connection.makefile('wb')
            self.close_connection = False

        def _read_body(self):
            # TensorFlow sends uploads chunked, which the emulator does not decode.
            if self.headers.get('Transfer-Encoding', '').lower() != 'chunked':
                return self.rfile.read(int(self.headers.get('Content-Length') or 0))
            chunks = []
            while size := int(self.rfile.readline().split(b';')[0], 16):
                chunks.append(self.rfile.read(size))
                self.rfile.readline()  # the line break after each chunk
            while self.rfile.readline().strip():  # trailer lines, up to an empty one
                pass
            return b''.join(chunks)

        def _forward(self):
            url = urllib.parse.urlsplit(self.path)  # absolute in plain-HTTP proxy requests
            path = url.path + ('?' + url.query if url.query else '')
            body = self._read_body()
            headers = {name: value for name, value in self.headers.items()
                       if name.lower() not in _HOP_HEADERS}
            if not body and 'uploadType=media' in path:
                path = path.replace('uploadType=media', 'uploadType=multipart')
                body = _EMPTY_MULTIPART_BODY
                headers['Content-Type'] = ('multipart/related; boundary='
                                           + _EMPTY_MULTIPART_BOUNDARY)
            headers['Content-Length'] = str(len(body))
            connection = http.client.HTTPConnection('127.0.0.1', emulator_port, timeout=60)
            try:
                connection.request(self.command, path, body, headers)
                response = connection.getresponse()
                data = response.read()
            finally:
                connection.close()
            self.send_response(response.status)
            for name, value in response.getheaders():
                if name.lower() not in _HOP_HEADERS | {'content-length', 'date', 'server'}:
                    self.send_header(name, value)
            self.send_header('Content-Length', str(len(data)))
            self.end_headers()
            self.wfile.write(data)
            self.wfile.flush()

        do_GET = do_PUT = do_POST = do_DELETE = do_PATCH = _forward  # noqa: N815

        def log_message(self, *args):
            pass

    return ProxyHandler


@contextlib.contextmanager
def local_gcs(work_dir):
    """Runs the emulator (bucket BUCKET, in memory) and the proxy until the block ends.

    Yields:
      The environment variables that point a process's gs:// paths at them.
    """
    cert, key = _make_certificate(work_dir)
    tls_context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    tls_context.load_cert_chain(cert, key)
    emulator_port = _free_port()
    emulator = create_server('127.0.0.1', emulator_port, in_memory=True, default_bucket=BUCKET)
    emulator.start()
    proxy = http.server.ThreadingHTTPServer(('127.0.0.1', 0),
                                            _proxy_handler(tls_context, emulator_port))
    proxy.daemon_threads = True
    proxy_thread = threading.Thread(target=proxy.serve_forever, daemon=True)
    proxy_thread.start()
    proxy_url = 'http://127.0.0.1:%d' % proxy.server_address[1]
    try:
        yield {
            # Every request, HTTP or HTTPS, goes to the proxy: none can reach another host.
            'HTTPS_PROXY': proxy_url, 'HTTP_PROXY': proxy_url, 'NO_PROXY': '',
            'https_proxy': proxy_url, 'http_proxy': proxy_url, 'no_proxy': '',
            'CURL_CA_BUNDLE': cert, 'GOOGLE_AUTH_TOKEN_FOR_TESTING': 'test-token',
            'NO_GCE_CHECK': 'true',
        }
    finally:
        proxy.shutdown()
        proxy.server_close()
        proxy_thread.join()
        emulator.stop()


def _request(environment, method, url, body=None):
    """The response body of a request through the proxy of `environment`, without TensorFlow."""
    proxy = urllib.parse.urlsplit(environment['HTTP_PROXY'])
    connection = http.client.HTTPConnection(proxy.hostname, proxy.port, timeout=60)
    try:
        connection.request(method, url, body)
        response = connection.getresponse()
        assert response.status == 200, (method, url, response.status)
        return response.read()
    finally:
        connection.close()


def _object_name(path):
    prefix = 'gs://%s/' % BUCKET
    assert path.startswith(prefix), path
    return path[len(prefix):]


def list_objects(environment, directory):
    """The sorted names, relative to `directory` (gs://BUCKET/...), of every object under it."""
    prefix = _object_name(directory.rstrip('/') + '/')
    listing = json.loads(_request(
        environment, 'GET', 'http://www.googleapis.com/storage/v1/b/%s/o?prefix=%s'
        % (BUCKET, urllib.parse.quote(prefix, safe=''))))
    return sorted(item['name'][len(prefix):] for item in listing.get('items', []))


def read_object(environment, path):
    """The bytes of the object at `path` (gs://BUCKET/...)."""
    return _request(environment, 'GET', 'http://storage.googleapis.com/%s/%s'
                    % (BUCKET, urllib.parse.quote(_object_name(path), safe='')))


def write_object(environment, path, data):
    """Stores the bytes `data` as the object at `path` (gs://BUCKET/...)."""
    _request(environment, 'POST', 'http://www.googleapis.com/upload/storage/v1/b/%s/o'
             '?uploadType=media&name=%s' % (BUCKET, urllib.parse.quote(_object_name(path),
                                                                      safe='')), data)
