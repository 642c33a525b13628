"""Trust anchors for C2PA signatures: none shipped, and a PEM bundle the analyst imports.

A C2PA signature proves that the manifest and the content are unchanged since someone signed
them with a certificate; whether that someone is who the certificate says depends on trusting
the authority that issued it. Trust lists change (the C2PA conformance programme publishes
one; news organisations run their own) and cannot be updated on an offline machine, so the
application ships **none**: without an imported list a valid signature reads "valid, signer not
on a trust list", never "trusted". The analyst can import a PEM bundle of root certificates
(:func:`load_trust_list`); every result records which list (file name and SHA-256) was used.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass

from engine.errors import EngineError
from engine.provenance.model import TrustInfo

__all__ = ["MAX_TRUST_LIST_BYTES", "TrustList", "TrustListError", "load_trust_list", "trust_info"]

# NOTE: the C2PA trust list is about 100 kB; 5 MB is far above any real bundle.
MAX_TRUST_LIST_BYTES = 5 * 2**20
_SUBJECTS_KEPT = 20

NO_TRUST_NOTE = (
    "No trust anchors were used: none ship with this application and none was imported. A "
    "valid signature shows the file is unchanged since it was signed and names the signer's "
    "certificate, but nothing vouches for who that signer is. Import a trust list (a PEM file "
    "of root certificates, e.g. the C2PA trust list) to check signers against it."
)


class TrustListError(EngineError):
    """A trust-list file cannot be used (unreadable, too large, or holds no certificate)."""


@dataclass(frozen=True)
class TrustList:
    """A parsed PEM bundle of trust anchors.

    Attributes:
        pem: the certificates, re-encoded as PEM (what the C2PA library is given).
        source: the file name it was read from.
        sha256: SHA-256 of the file as read.
        subjects: each certificate's subject, in file order.
    """

    pem: str
    source: str
    sha256: str
    subjects: tuple[str, ...]


def load_trust_list(path: str | os.PathLike[str]) -> TrustList:
    """Read and check a PEM bundle of trust-anchor certificates.

    Raises:
        TrustListError: unreadable, over :data:`MAX_TRUST_LIST_BYTES`, not PEM, or without a
            single certificate.
    """
    from cryptography import x509
    from cryptography.hazmat.primitives.serialization import Encoding

    name = os.path.basename(os.fspath(path))
    try:
        with open(path, "rb") as fh:
            raw = fh.read(MAX_TRUST_LIST_BYTES + 1)
    except OSError as exc:
        raise TrustListError(f"Cannot read the trust list {name}: {exc.strerror}") from exc
    if len(raw) > MAX_TRUST_LIST_BYTES:
        raise TrustListError(f"The trust list {name} is over {MAX_TRUST_LIST_BYTES >> 20} MB")
    try:
        certificates = x509.load_pem_x509_certificates(raw)
    except ValueError as exc:
        raise TrustListError(
            f"The trust list {name} is not a PEM file of certificates: {exc}") from exc
    pem = b"".join(c.public_bytes(Encoding.PEM) for c in certificates).decode("ascii")
    subjects = tuple(c.subject.rfc4514_string() for c in certificates)
    return TrustList(pem, name, hashlib.sha256(raw).hexdigest(), subjects)


def trust_info(trust: TrustList | None) -> TrustInfo:
    """What a result records about the anchors it was checked against."""
    if trust is None:
        return TrustInfo("none", None, 0, (), NO_TRUST_NOTE)
    return TrustInfo(
        source=trust.source,
        sha256=trust.sha256,
        n_anchors=len(trust.subjects),
        subjects=trust.subjects[:_SUBJECTS_KEPT],
        note=(f"Signers were checked against the {len(trust.subjects)} certificate(s) of the "
              f"imported trust list {trust.source} (SHA-256 {trust.sha256[:16]}…). A list "
              "cannot be updated offline: a signer added or revoked after it was exported is "
              "not known to it."),
    )
