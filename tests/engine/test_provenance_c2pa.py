"""C2PA Content Credentials read offline: valid, trusted, bad signature, tampered, broken, absent.

Every file is signed in the test with a throw-away certificate chain (tests/provenance_media).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from engine.api import TrustListError, inspect_provenance, load_trust_list
from engine.provenance.c2pa_read import offline_settings
from engine.provenance.model import FileProvenance
from tests.provenance_media import (
    CAPTURE_SOURCE,
    ThrowawayPki,
    break_manifest,
    jpeg_bytes,
    make_pki,
    sign_jpeg,
    sign_jpeg_bad_signature,
    tamper_pixels,
    textured_rgb,
    write,
)


@pytest.fixture(scope="module")
def pki() -> ThrowawayPki:
    return make_pki()


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory, pki: ThrowawayPki) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("c2pa")
    base = jpeg_bytes(textured_rgb(240, 320), 90)
    signed = sign_jpeg(base, pki)
    return {
        "plain": write(folder / "plain.jpg", base),
        "valid": write(folder / "valid.jpg", signed),
        "capture": write(folder / "capture.jpg", sign_jpeg(base, pki, source_type=CAPTURE_SOURCE)),
        "bad_signature": write(folder / "bad_sig.jpg", sign_jpeg_bad_signature(base, pki)),
        "tampered": write(folder / "tampered.jpg", tamper_pixels(signed)),
        "broken": write(folder / "broken.jpg", break_manifest(signed)),
        "root": write(folder / "root.pem", pki.root_pem),
        "other_root": write(folder / "other.pem", make_pki().root_pem),
    }


def _failures(record: FileProvenance) -> set[str]:
    return {c.code for c in record.c2pa.codes if c.outcome == "failure"}


def test_no_manifest_reads_provenance_unknown_not_manipulation(files: dict[str, Path]) -> None:
    record = inspect_provenance(files["plain"])
    assert record.c2pa.state == "absent"
    assert record.c2pa.summary.startswith("No Content Credentials: provenance unknown")
    assert "not evidence of manipulation" in record.c2pa.summary
    assert not [i for i in record.inconsistencies if i.code.startswith("c2pa")]


def test_valid_manifest_without_trust_list_is_valid_not_trusted(files: dict[str, Path]) -> None:
    record = inspect_provenance(files["valid"])
    c2pa = record.c2pa
    assert c2pa.state == "valid"
    assert _failures(record) == {"signingCredential.untrusted"}
    assert c2pa.signer == "Forensic Test Signer, Forensic Test Org"
    assert c2pa.claim_generator == "forensic-test-signer 1.0"
    assert c2pa.trust is not None
    assert c2pa.trust.source == "none"
    assert "none ship with this application" in c2pa.trust.note
    assert "claimSignature.validated" in {c.code for c in c2pa.codes}


def test_ai_generation_action_is_raised_prominently(files: dict[str, Path]) -> None:
    record = inspect_provenance(files["valid"])
    (action,) = record.c2pa.actions
    assert action.action == "c2pa.created"
    assert action.ai_generated
    assert action.software_agent == "Test Generator 2"
    assert record.c2pa.ai_generated
    assert "GENERATIVE-AI" in record.c2pa.summary
    assert record.inconsistencies[0].code == "c2pa_ai_generated"
    assert record.inconsistencies[0].severity == "look_first"
    camera = inspect_provenance(files["capture"])
    assert not camera.c2pa.ai_generated
    assert "c2pa_ai_generated" not in {i.code for i in camera.inconsistencies}


def test_imported_trust_list_makes_the_signer_trusted(files: dict[str, Path]) -> None:
    trust = load_trust_list(files["root"])
    record = inspect_provenance(files["valid"], trust_list=trust)
    assert record.c2pa.state == "trusted"
    assert _failures(record) == set()
    assert record.c2pa.trust is not None
    assert record.c2pa.trust.source == "root.pem"
    assert record.c2pa.trust.sha256 == trust.sha256
    assert record.c2pa.trust.subjects == ("O=Forensic Test Org,CN=Forensic Test Root CA",)
    other = inspect_provenance(files["valid"], trust_list=load_trust_list(files["other_root"]))
    assert other.c2pa.state == "valid"  # anchors of another PKI do not vouch for this signer


def test_bad_signature_is_flagged(files: dict[str, Path]) -> None:
    record = inspect_provenance(files["bad_signature"],
                                trust_list=load_trust_list(files["root"]))
    assert record.c2pa.state == "invalid"
    assert "claimSignature.mismatch" in _failures(record)
    assert "the signature does not verify" in record.c2pa.summary
    top = record.inconsistencies[0]
    assert (top.code, top.severity) == ("c2pa_invalid", "look_first")


def test_bytes_changed_after_signing_are_a_hash_mismatch(files: dict[str, Path]) -> None:
    record = inspect_provenance(files["tampered"], trust_list=load_trust_list(files["root"]))
    assert record.c2pa.state == "invalid"
    assert "assertion.dataHash.mismatch" in _failures(record)
    assert "changed after it was signed" in record.c2pa.summary
    assert record.inconsistencies[0].code == "c2pa_invalid"


def test_broken_manifest_is_unreadable_and_the_rest_is_still_read(files: dict[str, Path]
                                                                  ) -> None:
    record = inspect_provenance(files["broken"])
    assert record.c2pa.state == "unreadable"
    assert "cannot be read" in record.c2pa.summary
    assert "c2pa_unreadable" in {i.code for i in record.inconsistencies}
    assert record.jpeg is not None  # the JPEG facts are read regardless
    assert record.jpeg.quality_estimate == 90


def test_trust_list_errors_are_clear(tmp_path: Path) -> None:
    with pytest.raises(TrustListError, match="Cannot read the trust list"):
        load_trust_list(tmp_path / "missing.pem")
    bad = write(tmp_path / "bad.pem", b"-----BEGIN CERTIFICATE-----\nAAAA\n")
    with pytest.raises(TrustListError, match="not a PEM file"):
        load_trust_list(bad)
    with pytest.raises(TrustListError):
        load_trust_list(write(tmp_path / "empty.pem", b""))


def test_reader_settings_fetch_nothing() -> None:
    settings = offline_settings(None)
    assert settings["verify"]["remote_manifest_fetch"] is False
    assert settings["verify"]["ocsp_fetch"] is False
    assert settings["core"]["allowed_network_hosts"] == []
    assert settings["trust"]["trust_anchors"] is None  # nothing shipped, nothing implied


def test_record_round_trips_through_json(files: dict[str, Path]) -> None:
    for name in ("valid", "tampered", "broken", "plain"):
        record = inspect_provenance(files[name])
        again = FileProvenance.from_dict(json.loads(json.dumps(record.to_dict())))
        assert again == record
