"""The media-provenance record as HTML for the provenance panel (pure functions, no Qt).

Order of what an analyst reads: the Content Credentials state (generative AI declared first,
in red), the inconsistencies by severity with what each may mean, the metadata highlights,
GPS with its privacy note, JPEG and thumbnail facts, container facts, reading problems, and
at the end every metadata entry. All stored text is escaped: metadata is written by whoever
made the file.
"""

from __future__ import annotations

from html import escape

from engine.types import FileProvenance

__all__ = ["STATE_TEXT", "credentials_html", "provenance_html"]

STATE_TEXT = {
    "absent": ("No Content Credentials: provenance unknown", "#5f6368"),
    "valid": ("Content Credentials valid (signer not on a trust list)", "#188038"),
    "trusted": ("Content Credentials valid and trusted", "#188038"),
    "invalid": ("Content Credentials FAIL validation", "#d93025"),
    "unreadable": ("Content Credentials present but unreadable", "#d93025"),
    "not_checked": ("Content Credentials not checked", "#b06000"),
}
_SEVERITY = {"look_first": ("LOOK AT THIS FIRST", "#d93025"), "look": ("look at this", "#b06000"),
             "note": ("note", "#5f6368")}
_MAX_ENTRIES_SHOWN = 400


def _rows(pairs: list[tuple[str, str]]) -> str:
    cells = "".join(f"<tr><td><b>{escape(k)}</b></td><td>{escape(v)}</td></tr>" for k, v in pairs)
    return f"<table cellspacing='0' cellpadding='2'>{cells}</table>"


def credentials_html(record: FileProvenance) -> str:
    """The Content Credentials block: state, declaration, signer, actions, failures, trust."""
    c2pa = record.c2pa
    words, colour = STATE_TEXT.get(c2pa.state, (c2pa.state, "#5f6368"))
    parts = [f"<p style='color:{colour}'><b>{escape(words)}</b></p>"]
    if c2pa.ai_generated:
        parts.append("<p style='color:#d93025'><b>The manifest DECLARES GENERATIVE-AI content"
                     "</b> (the maker's own signed declaration, not a detector finding).</p>")
    parts.append(f"<p>{escape(c2pa.summary)}</p>")
    pairs = [(label, value) for label, value in (
        ("Signer", c2pa.signer), ("Signed at", c2pa.signed_at),
        ("Claim generator", c2pa.claim_generator), ("Title", c2pa.title),
        ("Remote manifest (not fetched)", c2pa.remote_url)) if value]
    for action in c2pa.actions:
        source = action.digital_source_type.rsplit("/", 1)[-1] if action.digital_source_type \
            else ""
        pairs.append(("Action", " ".join(x for x in (action.action, f"[{source}]" if source
                                                      else "", action.software_agent or "") if x)))
    for ingredient in c2pa.ingredients:
        pairs.append(("Ingredient", f"{ingredient.title} ({ingredient.relationship or '-'})"))
    failures = [c for c in c2pa.codes if c.outcome == "failure"]
    pairs += [("Failure", f"{c.code}: {c.explanation}") for c in failures]
    if c2pa.trust is not None:
        pairs.append(("Trust anchors used", c2pa.trust.note))
    return "".join(parts) + _rows(pairs)


def _inconsistencies_html(record: FileProvenance) -> str:
    if not record.inconsistencies:
        return ("<p>No inconsistency found by the rules. That does not mean the file is "
                "unedited: metadata is easy to strip or rewrite.</p>")
    items = []
    for item in record.inconsistencies:
        label, colour = _SEVERITY[item.severity]
        found = "; ".join(item.evidence)
        items.append(f"<li><span style='color:{colour}'><b>[{escape(label)}]</b></span> "
                     f"<b>{escape(item.title)}</b><br/>{escape(item.explanation)}"
                     + (f"<br/><i>{escape(found)}</i>" if found else "") + "</li>")
    return f"<ul>{''.join(items)}</ul>"


def _facts_pairs(record: FileProvenance) -> list[tuple[str, str]]:
    pairs = [(f"{h.group}: {h.key}", h.value) for h in record.highlights]
    if record.jpeg is not None:
        pairs.append(("JPEG double compression",
                      f"{record.jpeg.double_compression}. {record.jpeg.double_compression_detail}"))
    if record.thumbnail is not None:
        pairs.append(("EXIF thumbnail", f"{record.thumbnail.verdict}: {record.thumbnail.detail}"))
    container = record.container
    if container is not None:
        pairs.append(("Container", f"{container.format_name}, boxes "
                                   f"{' '.join(container.box_order) or '-'}"))
        pairs += [(f"Edit list, track {e.track_id}",
                   f"{e.segment_duration_s:.3f} s from "
                   + ("(empty)" if e.media_time_s is None else f"{e.media_time_s:.3f} s"))
                  for e in container.edit_lists]
    pairs.append(("Bytes read", f"{record.size_bytes} bytes ({record.format_family}); "
                                f"{record.same_bytes}"))
    return pairs


def provenance_html(record: FileProvenance) -> str:
    """The whole panel's HTML for one record."""
    sections = [
        "<h3>Content Credentials (C2PA)</h3>", credentials_html(record),
        "<h3>Inconsistencies to look at</h3>", _inconsistencies_html(record),
        "<h3>Highlights</h3>", _rows(_facts_pairs(record)),
    ]
    if record.gps is not None:
        gps = record.gps
        sections += ["<h3>Location (GPS)</h3>",
                     f"<p>{gps.lat_deg:.6f}, {gps.lon_deg:.6f}"
                     + (f", {gps.alt_m:.0f} m" if gps.alt_m is not None else "")
                     + f" ({escape(gps.source)})</p>",
                     f"<p style='color:#b06000'>{escape(gps.privacy_note)}</p>"]
    if record.notes:
        sections += ["<h3>Problems while reading</h3>",
                     "<ul>" + "".join(f"<li>{escape(n)}</li>" for n in record.notes) + "</ul>"]
    shown = record.metadata[:_MAX_ENTRIES_SHOWN]
    more = len(record.metadata) - len(shown)
    sections += [f"<h3>All metadata ({len(record.metadata)} entries)</h3>",
                 _rows([(f"{e.group}: {e.key}", e.value + (" …(cut)" if e.truncated else ""))
                        for e in shown])]
    if more > 0:
        sections.append(f"<p>… and {more} more (in the CLI JSON and the database).</p>")
    return "".join(sections)
