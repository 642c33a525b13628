"""C2PA Content Credentials read and validated offline with c2pa-python.

The C2PA library would fetch a manifest the file only points to (a "remote manifest") and,
if asked, certificate revocation (OCSP) over the network. Here both are off, and the list of
hosts it may contact is empty (:func:`offline_settings`); ``tests/test_no_network.py`` shows
that a file pointing to a remote manifest on a local server leaves that server untouched. A
remote-only manifest therefore reads "not checked", with its URL, never "absent".

States (``model.C2paState``): *absent* means provenance unknown, never evidence of
manipulation; *valid* means signature and hashes check out but the signer is on no trust list
used; *trusted* adds that it chains to an anchor of the imported list; *invalid* means a
signature or hash check failed (the file changed after signing, or the signature is bad);
*unreadable* means a manifest is there but broken. AI generation declared by an action's
digital source type is raised to ``ai_generated`` so it can be shown first.
"""

from __future__ import annotations

import json
import logging
import re
from typing import Any, BinaryIO

from engine.provenance.model import (
    C2paAction,
    C2paIngredient,
    C2paStatusCode,
    ContentCredentials,
)
from engine.provenance.textutil import clean_text
from engine.provenance.trust import TrustList, trust_info

__all__ = ["AI_SOURCE_TYPES", "offline_settings", "read_credentials", "source_type_words"]

log = logging.getLogger(__name__)

_IPTC = "http://cv.iptc.org/newscodes/digitalsourcetype/"
# IPTC digital source types that declare generative AI (the last path part of the URI).
AI_SOURCE_TYPES = {
    "trainedAlgorithmicMedia": "created by generative AI (a model trained on sampled content)",
    "compositeWithTrainedAlgorithmicMedia": "a composite that includes generative-AI content",
}
_OTHER_SOURCE_TYPES = {
    "digitalCapture": "captured by a camera or recorder",
    "algorithmicMedia": "created by an algorithm without sampled training data",
    "compositeSynthetic": "a composite that includes synthetic elements",
    "composite": "a composite of several sources",
    "algorithmicallyEnhanced": "captured, then enhanced by an algorithm",
    "digitalArt": "made by a person with digital tools",
    "screenCapture": "a screenshot",
}
_HASH_MISMATCH = re.compile(r"\.(dataHash|bmffHash|boxesHash|collectionHash)\.mismatch$")
_REMOTE_URL = re.compile(r"(https?://\S+)")
_BROKEN_MANIFEST_ERRORS = {"Decoding", "Manifest", "Json", "Encoding", "Signature", "Verify",
                           "Assertion", "AssertionNotFound", "ResourceNotFound"}
# NOTE: a manifest has a few dozen codes; a crafted one with thousands is cut here.
_MAX_CODES = 200
_MAX_ITEMS = 100


def offline_settings(trust: TrustList | None) -> dict[str, Any]:
    """Reader settings: verify everything that can be verified locally, fetch nothing."""
    return {
        "verify": {
            "verify_after_reading": True,
            "verify_trust": True,
            "verify_timestamp_trust": True,
            "remote_manifest_fetch": False,
            "ocsp_fetch": False,
        },
        "core": {"allowed_network_hosts": []},
        # NOTE: set explicitly, so no built-in default can ever count as a shipped anchor.
        "trust": {"trust_anchors": trust.pem if trust else None, "user_anchors": None},
    }


def source_type_words(uri: str | None) -> str | None:
    """An IPTC digital source type in words (``None`` for none)."""
    if not uri:
        return None
    name = uri.rsplit("/", 1)[-1]
    return AI_SOURCE_TYPES.get(name) or _OTHER_SOURCE_TYPES.get(name) or name


def read_credentials(stream: BinaryIO, mime: str, trust: TrustList | None,
                     has_marker: bool | None) -> ContentCredentials:
    """The Content Credentials in ``stream`` (see the module docstring); never raises.

    Args:
        stream: the file's bytes, seekable.
        mime: its MIME type (from the magic bytes).
        trust: the imported trust anchors, ``None`` for none.
        has_marker: whether the bytes visibly hold a C2PA manifest store (``None``: unknown),
            to tell a broken manifest from an asset the library cannot parse.
    """
    info = trust_info(trust)
    planted = _planted_library()
    if planted is not None:
        return ContentCredentials("not_checked", "Content Credentials were not checked: a file "
                                  f"named like the C2PA library lies in the working folder "
                                  f"({planted}), and c2pa-python would load it before its own. "
                                  "Start the application from another folder.", trust=info)
    try:
        import c2pa
    except (ImportError, RuntimeError, OSError) as exc:  # native library missing or broken
        return ContentCredentials("not_checked", f"The C2PA library is not available: {exc}",
                                  trust=info)
    try:
        context = c2pa.Context.from_dict(offline_settings(trust))
        with c2pa.Reader(mime, stream, None, context) as reader:
            store = json.loads(reader.json())
    except c2pa.C2paError as exc:
        return _from_error(exc, info, has_marker)
    return _from_store(store, info)


def _planted_library() -> str | None:
    """A C2PA library file in the working folder, which c2pa-python would load first.

    c2pa-python searches the current directory (and its ``libs``/``artifacts`` folders) before
    its own package for ``libc2pa_c``; an analyst working from an evidence folder must not run
    a library that came with the evidence. Once loaded, the library stays loaded.
    """
    import os
    import sys

    if "c2pa" in sys.modules:
        return None
    for folder in ("", "libs", "artifacts"):
        for name in ("libc2pa_c.so", "libc2pa_c.dylib", "c2pa_c.dll"):
            candidate = os.path.join(os.getcwd(), folder, name)
            if os.path.exists(candidate):
                return candidate
    return None


def _from_error(exc: Exception, info: Any, has_marker: bool | None) -> ContentCredentials:
    kind = type(exc).__name__.lstrip("_").removeprefix("C2pa")
    message = clean_text(str(exc), 300)[0]
    if kind == "ManifestNotFound":
        return ContentCredentials("absent", _ABSENT, trust=info)
    if kind == "RemoteManifest" or message.startswith("Remote:"):
        url = _REMOTE_URL.search(message)
        remote = url.group(1) if url else None
        return ContentCredentials(
            "not_checked",
            f"The file points to Content Credentials stored online ({remote or 'no URL'}); they "
            "were not fetched, because this application works offline. Provenance unknown.",
            remote_url=remote, trust=info)
    if kind in _BROKEN_MANIFEST_ERRORS or (has_marker and kind not in ("NotSupported", "Io")):
        return ContentCredentials(
            "unreadable",
            f"A Content Credentials manifest is present but cannot be read ({message}): it is "
            "damaged, or written in a way this C2PA library does not accept. Nothing it says "
            "can be relied on.", trust=info)
    log.info("C2PA reader refused the file: %s", message)
    return ContentCredentials("not_checked", f"Content Credentials were not checked: the C2PA "
                              f"library cannot read this file ({message}).", trust=info)


_ABSENT = ("No Content Credentials: provenance unknown. Most photos and videos carry none "
           "(few cameras and apps write them, and many platforms strip them), so their absence "
           "is not evidence of manipulation.")


def _from_store(store: dict[str, Any], info: Any) -> ContentCredentials:
    manifests = store.get("manifests") or {}
    active = manifests.get(store.get("active_manifest") or "", {})
    results = (store.get("validation_results") or {}).get("activeManifest") or {}
    codes = _codes(results, store.get("validation_status"))
    actions = _actions(active)
    state = _state(str(store.get("validation_state") or ""), codes)
    sig = active.get("signature_info") or {}
    signer = ", ".join(_text(v) for v in (sig.get("common_name"), sig.get("issuer")) if v)
    creds = ContentCredentials(
        state=state,
        summary="",
        signer=signer or None,
        signed_at=_text(sig.get("time")) or None,
        claim_generator=_generator(active),
        title=_text(active.get("title")) or None,
        actions=actions,
        ai_generated=any(a.ai_generated for a in actions),
        ingredients=_ingredients(active),
        codes=codes,
        n_manifests=len(manifests),
        trust=info,
    )
    return _with_summary(creds)


def _state(validation_state: str, codes: tuple[C2paStatusCode, ...]) -> Any:
    failures = [c.code for c in codes if c.outcome == "failure"]
    if validation_state == "Trusted" and not failures:
        return "trusted"
    only_untrusted = set(failures) <= {"signingCredential.untrusted"}
    if validation_state in ("Valid", "Trusted") and only_untrusted:
        return "valid"
    return "invalid"


def _with_summary(creds: ContentCredentials) -> ContentCredentials:
    from dataclasses import replace

    signer = creds.signer or "an unnamed signer"
    failures = [c.code for c in creds.codes if c.outcome == "failure"]
    if creds.state == "invalid":
        changed = any(_HASH_MISMATCH.search(code) for code in failures)
        bad_sig = any(code.startswith("claimSignature.") for code in failures)
        why = ("the content no longer matches the signed hash: the file was changed after it "
               "was signed" if changed else "the signature does not verify" if bad_sig
               else "a validation check failed")
        shown = [code for code in failures if code != "signingCredential.untrusted"] or failures
        text = (f"Content Credentials FAIL validation: {why} ({', '.join(shown[:4])}). What "
                "the manifest says cannot be relied on.")
    elif creds.state == "trusted":
        text = (f"Content Credentials valid and trusted: the file is unchanged since {signer} "
                "signed it, and the signer chains to an anchor of the trust list used.")
    else:
        text = (f"Content Credentials valid: the file is unchanged since {signer} signed it, "
                "but the signer is on no trust list used, so who they are is not vouched for.")
    if creds.ai_generated:
        text += " The manifest DECLARES GENERATIVE-AI CONTENT."
    return replace(creds, summary=text)


def _codes(results: dict[str, Any], status: Any) -> tuple[C2paStatusCode, ...]:
    found: list[C2paStatusCode] = []
    for outcome in ("failure", "informational", "success"):
        for item in results.get(outcome) or []:
            found.append(_code(item, outcome))
    if not found:  # older stores: only the flat validation_status list (all failures)
        found = [_code(item, "failure") for item in status or []]
    return tuple(found[:_MAX_CODES])


def _code(item: dict[str, Any], outcome: str) -> C2paStatusCode:
    return C2paStatusCode(_text(item.get("code")), outcome, _text(item.get("explanation")),
                          _text(item.get("url")) or None)


def _actions(manifest: dict[str, Any]) -> tuple[C2paAction, ...]:
    found: list[C2paAction] = []
    for assertion in manifest.get("assertions") or []:
        if not str(assertion.get("label", "")).startswith("c2pa.actions"):
            continue
        for action in (assertion.get("data") or {}).get("actions") or []:
            source = _text(action.get("digitalSourceType")) or None
            params = action.get("parameters") or {}
            found.append(C2paAction(
                action=_text(action.get("action")),
                digital_source_type=source,
                software_agent=_agent(action.get("softwareAgent")),
                when=_text(action.get("when")) or None,
                description=_text(action.get("description") or params.get("description")
                                  or action.get("reason")) or None,
                ai_generated=bool(source) and source.rsplit("/", 1)[-1] in AI_SOURCE_TYPES,
            ))
    return tuple(found[:_MAX_ITEMS])


def _ingredients(manifest: dict[str, Any]) -> tuple[C2paIngredient, ...]:
    found = []
    for ing in (manifest.get("ingredients") or [])[:_MAX_ITEMS]:
        statuses = ing.get("validation_status") or []
        results = ((ing.get("validation_results") or {}).get("activeManifest") or {})
        failures = [_text(s.get("code")) for s in [*statuses, *(results.get("failure") or [])]]
        found.append(C2paIngredient(
            title=_text(ing.get("title")) or "(untitled)",
            format=_text(ing.get("format")) or None,
            relationship=_text(ing.get("relationship")) or None,
            has_manifest=bool(ing.get("active_manifest") or ing.get("manifest_data")),
            validation_failures=tuple(dict.fromkeys(failures)),
        ))
    return tuple(found)


def _generator(manifest: dict[str, Any]) -> str | None:
    infos = manifest.get("claim_generator_info") or []
    if infos and isinstance(infos[0], dict):
        first = infos[0]
        return " ".join(_text(v) for v in (first.get("name"), first.get("version")) if v) or None
    return _text(manifest.get("claim_generator")) or None


def _agent(agent: Any) -> str | None:
    if isinstance(agent, dict):
        return " ".join(_text(v) for v in (agent.get("name"), agent.get("version")) if v) or None
    return _text(agent) or None


def _text(value: Any) -> str:
    return "" if value is None else clean_text(str(value), 300)[0]
