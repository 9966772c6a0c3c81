"""A certificate authority made by the test (trustme), and the cloud's certificate from it.

No public authority signed it, so an agent trusts the cloud only when it is told to (its
``ca_bundle``), exactly as with a company's private authority.
"""

from __future__ import annotations

from pathlib import Path

import trustme

from cloud.local import CloudTls


def cloud_tls(folder: Path, host_name: str, *also: str) -> CloudTls:
    """A new authority, and a certificate it signed for ``host_name`` (and ``also``: more names
    or IP addresses), written to ``folder`` as PEM files."""
    folder.mkdir(parents=True, exist_ok=True)
    authority = trustme.CA(organization_name="Connector test authority")
    certificate = authority.issue_cert(host_name, *also)
    ca_file, cert_file, key_file = folder / "ca.pem", folder / "cloud.pem", folder / "cloud.key"
    authority.cert_pem.write_to_path(str(ca_file))
    certificate.private_key_pem.write_to_path(str(key_file))
    # The leaf first, then the chain up to (not including) the root: what a server sends.
    cert_file.write_bytes(b"".join(blob.bytes() for blob in certificate.cert_chain_pems))
    return CloudTls(cert_file=cert_file, key_file=key_file, ca_file=ca_file, host_name=host_name)
