"""Test media for the provenance features, made in the test: nothing third-party is committed.

- JPEGs with EXIF/XMP/GPS/thumbnail written by exiv2 (the library the app reads with);
- a throw-away certificate chain (root -> intermediate -> signer, ECDSA P-256) made with
  ``cryptography``, and C2PA-signed JPEGs made with c2pa-python: valid, signed with a key that
  does not match the certificate ("bad signature", with the library's check-after-signing off),
  tampered (pixel bytes changed after signing), a damaged manifest, and a remote-only manifest
  pointing at a URL.

Shared by tests/engine, tests/cases, tests/gui and tests/test_no_network.py.
"""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

AI_SOURCE = "http://cv.iptc.org/newscodes/digitalsourcetype/trainedAlgorithmicMedia"
CAPTURE_SOURCE = "http://cv.iptc.org/newscodes/digitalsourcetype/digitalCapture"


def textured_rgb(height: int, width: int, seed: int = 0) -> np.ndarray:
    """A photo-like (H, W, 3) uint8 image: smooth shapes plus 1/f-ish texture and noise."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:height, 0:width].astype(np.float32)
    base = 110 + 60 * np.sin(xx / 37.0) * np.cos(yy / 23.0)
    texture = np.zeros((height, width), np.float32)
    for scale in (2, 4, 8, 16, 32):
        small = rng.normal(0, 1, (height // scale + 2, width // scale + 2)).astype(np.float32)
        big = np.asarray(Image.fromarray(small).resize((width, height), Image.Resampling.BICUBIC))
        texture += big * scale * 1.2
    rgb = np.stack([base + texture, base * 0.9 + texture, base * 0.8 + texture * 1.1], axis=2)
    rgb += rng.normal(0, 3, rgb.shape)
    return np.clip(rgb, 0, 255).astype(np.uint8)


def jpeg_bytes(rgb_u8: np.ndarray, quality: int = 90) -> bytes:
    """``rgb_u8`` saved as a baseline 4:2:0 JPEG by Pillow (libjpeg's standard tables)."""
    buf = io.BytesIO()
    Image.fromarray(rgb_u8).save(buf, "JPEG", quality=quality)
    return buf.getvalue()


def decode(data: bytes) -> np.ndarray:
    """Decode image bytes to (H, W, 3) uint8 RGB."""
    return np.asarray(Image.open(io.BytesIO(data)).convert("RGB"))


def with_metadata(data: bytes, exif: Mapping[str, str | int] = (), xmp: Mapping[str, str] = (),
                  thumbnail_jpeg: bytes | None = None) -> bytes:
    """``data`` with EXIF/XMP entries (and an EXIF thumbnail) written by exiv2."""
    import exiv2

    image = exiv2.ImageFactory.open(data)
    image.readMetadata()
    exif_data, xmp_data = image.exifData(), image.xmpData()
    for key, value in dict(exif).items():
        exif_data[key] = value
    for key, value in dict(xmp).items():
        xmp_data[key] = value
    if thumbnail_jpeg is not None:
        exiv2.ExifThumb(exif_data).setJpegThumbnail(thumbnail_jpeg)
    image.writeMetadata()
    return bytes(image.io().mmap())


def thumbnail_of(rgb_u8: np.ndarray, box_wh: tuple[int, int] = (160, 120)) -> bytes:
    """A camera-style letterboxed JPEG thumbnail of ``rgb_u8``."""
    img = Image.fromarray(rgb_u8)
    img.thumbnail(box_wh, Image.Resampling.LANCZOS)
    canvas = Image.new("RGB", box_wh)
    canvas.paste(img, ((box_wh[0] - img.width) // 2, (box_wh[1] - img.height) // 2))
    buf = io.BytesIO()
    canvas.save(buf, "JPEG", quality=75)
    return buf.getvalue()


@dataclass(frozen=True)
class ThrowawayPki:
    """A throw-away root, the signer's chain (signer + intermediate, PEM) and its key."""

    root_pem: bytes
    chain_pem: bytes
    key_pem: bytes


def _name(common_name: str) -> object:
    from cryptography import x509
    from cryptography.x509.oid import NameOID

    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name),
                      x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Forensic Test Org")])


def _usage(*, ca: bool) -> object:
    from cryptography import x509

    return x509.KeyUsage(digital_signature=not ca, content_commitment=False,
                         key_encipherment=False, data_encipherment=False, key_agreement=False,
                         key_cert_sign=ca, crl_sign=ca, encipher_only=False, decipher_only=False)


def _certificate(subject: str, issuer: object, public_key: object, signing_key: object, *,
                 ca: bool, ocsp_url: str | None = None) -> object:
    """One certificate; C2PA wants an authority key id on every non-root one."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes
    from cryptography.x509.oid import AuthorityInformationAccessOID, ExtendedKeyUsageOID

    now = dt.datetime.now(dt.UTC) - dt.timedelta(days=1)
    builder = (x509.CertificateBuilder().subject_name(_name(subject)).issuer_name(issuer)
               .public_key(public_key).serial_number(x509.random_serial_number())
               .not_valid_before(now).not_valid_after(now + dt.timedelta(days=30))
               .add_extension(x509.BasicConstraints(ca=ca, path_length=1 if ca else None), True)
               .add_extension(_usage(ca=ca), True)
               .add_extension(x509.SubjectKeyIdentifier.from_public_key(public_key), False))
    if signing_key is not public_key and subject != "Forensic Test Root CA":
        builder = builder.add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(
            signing_key.public_key()), False)  # type: ignore[attr-defined]
    if not ca:
        builder = builder.add_extension(
            x509.ExtendedKeyUsage([ExtendedKeyUsageOID.EMAIL_PROTECTION]), False)
    if ocsp_url:
        builder = builder.add_extension(x509.AuthorityInformationAccess([x509.AccessDescription(
            AuthorityInformationAccessOID.OCSP, x509.UniformResourceIdentifier(ocsp_url))]), False)
    return builder.sign(signing_key, hashes.SHA256())


def make_pki(ocsp_url: str | None = None) -> ThrowawayPki:
    """A root CA, an intermediate CA and a signer certificate valid for 30 days."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    root_key, inter_key, signer_key = (ec.generate_private_key(ec.SECP256R1()) for _ in range(3))
    root = _certificate("Forensic Test Root CA", _name("Forensic Test Root CA"),
                        root_key.public_key(), root_key, ca=True)
    inter = _certificate("Forensic Test Intermediate", root.subject, inter_key.public_key(),
                         root_key, ca=True)
    signer = _certificate("Forensic Test Signer", inter.subject, signer_key.public_key(),
                          inter_key, ca=False, ocsp_url=ocsp_url)
    pem = serialization.Encoding.PEM
    key = signer_key.private_bytes(pem, serialization.PrivateFormat.PKCS8,
                                   serialization.NoEncryption())
    return ThrowawayPki(root.public_bytes(pem), signer.public_bytes(pem) + inter.public_bytes(pem),
                   key)


def _manifest(source_type: str, title: str) -> dict[str, object]:
    return {
        "claim_generator_info": [{"name": "forensic-test-signer", "version": "1.0"}],
        "title": title,
        "assertions": [{"label": "c2pa.actions", "data": {"actions": [
            {"action": "c2pa.created", "digitalSourceType": source_type,
             "softwareAgent": {"name": "Test Generator", "version": "2"}},
        ]}}],
    }


def sign_jpeg(data: bytes, pki: ThrowawayPki, *, source_type: str = AI_SOURCE,
              remote_url: str | None = None) -> bytes:
    """``data`` with an embedded (or, with ``remote_url``, remote-only) C2PA manifest."""
    import c2pa

    signer = c2pa.Signer.from_info(c2pa.C2paSignerInfo(
        c2pa.C2paSigningAlg.ES256, pki.chain_pem, pki.key_pem, None))
    builder = c2pa.Builder.from_json(_manifest(source_type, "evidence.jpg"))
    if remote_url is not None:
        builder.set_no_embed()
        builder.set_remote_url(remote_url)
    out = io.BytesIO()
    builder.sign(signer, "image/jpeg", io.BytesIO(data), out)
    return out.getvalue()


def sign_jpeg_bad_signature(data: bytes, pki: ThrowawayPki) -> bytes:
    """``data`` signed by a key that does not match the certificate in the manifest."""
    import c2pa
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

    wrong_key = ec.generate_private_key(ec.SECP256R1())

    def sign(payload: bytes) -> bytes:
        r, s = decode_dss_signature(wrong_key.sign(payload, ec.ECDSA(hashes.SHA256())))
        return r.to_bytes(32, "big") + s.to_bytes(32, "big")

    # NOTE: the library verifies after signing by default and would refuse to write this file.
    context = c2pa.Context.from_dict({"verify": {"verify_after_sign": False}})
    signer = c2pa.Signer.from_callback(sign, c2pa.C2paSigningAlg.ES256, pki.chain_pem.decode())
    builder = c2pa.Builder.from_json(_manifest(CAPTURE_SOURCE, "evidence.jpg"), context)
    out = io.BytesIO()
    builder.sign(signer, "image/jpeg", io.BytesIO(data), out)
    return out.getvalue()


def tamper_pixels(signed: bytes) -> bytes:
    """The signed file with one byte of its entropy-coded image data changed after signing."""
    changed = bytearray(signed)
    changed[-200] ^= 0x5A
    return bytes(changed)


def break_manifest(signed: bytes) -> bytes:
    """The signed file with its claim's CBOR made invalid (the manifest can no longer parse)."""
    at = signed.find(b"c2pa.signature")
    assert at > 0, "no C2PA signature box found"
    broken = bytearray(signed)
    broken[at + 40] ^= 0x01
    return bytes(broken)


def write(path: Path, data: bytes) -> Path:
    """Write ``data`` to ``path`` and return it."""
    path.write_bytes(data)
    return path
