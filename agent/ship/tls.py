"""What the agent trusts when it verifies the API's certificate (TLS is always verified).

One rule for both transports and ``check``: the system's CA store, as curl and the
system's own tools see it (``/etc/ssl/certs``, ``update-ca-certificates``; OpenSSL's
``SSL_CERT_FILE``/``SSL_CERT_DIR`` are honoured), plus the certificates in ``api.ca_file``
when it is set: *in addition*, not instead, so a private CA (or a TLS-inspecting proxy's
CA) can be added without losing the public ones. (httpx alone would use certifi's bundle,
aiohttp the system store; both get this context instead.)
"""

from __future__ import annotations

import ssl
from pathlib import Path

from agent.errors import ConfigError


def check_ca_file(path: Path) -> Path:
    """The path if it holds at least one PEM CA certificate, else ConfigError saying why."""
    try:
        text = path.read_text(encoding="ascii", errors="replace")
    except OSError as exc:
        raise ConfigError(f"cannot read {path}: {exc.strerror}") from None
    if "-----BEGIN CERTIFICATE-----" not in text:
        raise ConfigError(f"{path} holds no PEM certificate (-----BEGIN CERTIFICATE-----)")
    try:
        ssl.create_default_context().load_verify_locations(cafile=str(path))
    except ssl.SSLError as exc:
        raise ConfigError(f"{path} is not a valid PEM certificate file: {exc.reason}") from None
    return path


def tls_context(ca_file: Path | None) -> ssl.SSLContext:
    """A verifying client context: the system store plus ``ca_file``.

    Each transport gets its own (the libraries set ALPN on the context they are given).
    """
    context = ssl.create_default_context()
    if ca_file is not None:
        try:
            context.load_verify_locations(cafile=str(ca_file))
        except (OSError, ssl.SSLError) as exc:  # checked at load; the file changed since
            raise ConfigError(f"api.ca_file: cannot load {ca_file}: {exc}") from None
    return context
