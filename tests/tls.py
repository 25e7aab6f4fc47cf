"""A throwaway certificate authority for TLS tests (trustme), and files and contexts from it.

Nothing touches the system store: the CA lives for one test, its PEM is written to a tmp
file for ``api.ca_file``, and the server context serves a certificate for the names given.
"""

from __future__ import annotations

import ssl
from pathlib import Path

import trustme

API_HOST = "api.test"  # the name the TLS receiver's certificate is for (.test never resolves)


def make_ca() -> trustme.CA:
    """A fresh CA, trusted by nothing until a test says so."""
    return trustme.CA()


def write_ca_file(ca: trustme.CA, path: Path) -> Path:
    """The CA certificate as a PEM file (what ``api.ca_file`` names)."""
    ca.cert_pem.write_to_path(str(path))
    return path


def server_context(ca: trustme.CA, *hosts: str) -> ssl.SSLContext:
    """A server context with a certificate for ``hosts`` (default: API_HOST) signed by ``ca``."""
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert(*(hosts or (API_HOST,))).configure_cert(context)
    return context
