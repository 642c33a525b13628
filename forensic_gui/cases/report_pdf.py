"""The PDF case report, built from the case database only (reportlab platypus, no Qt).

The report never reads widgets or re-runs the engine: case data, findings, per-frame scores, key
frames (rendered with overlays by the app at analysis time), verdicts and the audit log all come
from :class:`CaseStore`. The only file it reads besides the database is each evidence file, which
it re-hashes first: a mismatch is logged in the audit log and printed in red, and the report is
still produced, because a report that documents a changed file is exactly what is needed then.

The PDF is written to a temporary file next to ``out_path`` and renamed into place, so a crash
never leaves a truncated report. Its SHA-256 is logged as ``report.exported``.
"""

from __future__ import annotations

import hashlib
import logging
import os
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import (
    CondPageBreak,
    Flowable,
    PageBreak,
    Paragraph,
    SimpleDocTemplate,
    Spacer,
)

from engine.api import list_detectors, list_filters, sha256_file
from forensic_gui.cases.errors import CaseStoreError
from forensic_gui.cases.models import utc_now
from forensic_gui.cases.records import AuditEntry, CaseRecord, ChainReport, EvidenceCheck
from forensic_gui.cases.report_media_provenance import media_provenance_block
from forensic_gui.cases.report_provenance import (
    DetectorCard,
    audit_section,
    limits_block,
    provenance_block,
)
from forensic_gui.cases.report_reference import reference_block
from forensic_gui.cases.report_sections import (
    ItemData,
    case_section,
    evidence_section,
    findings_block,
    key_frames_block,
    timeline_block,
    verdict_box,
)
from forensic_gui.cases.report_style import (
    ReportStyles,
    detector_label,
    esc,
    fmt_time,
    kv_table,
    make_styles,
)
from forensic_gui.cases.report_validation import validation_block
from forensic_gui.cases.repository import CaseStore
from forensic_gui.cases.store_ops import Sha256Fn

__all__ = ["ReportSummary", "build_case_report"]

logger = logging.getLogger(__name__)

_MARGIN = 16 * mm
# Room the heading, details and findings table of an item need to start on the current page.
_ITEM_START_ROOM_PT = 300.0


@dataclass(frozen=True)
class ReportSummary:
    """What was exported.

    Attributes:
        path: the PDF written.
        sha256: SHA-256 of the PDF, as logged in ``report.exported``.
        n_pages: pages in the PDF.
        evidence_checks: the export-time re-hash of every evidence item.
        chain: the audit chain verification printed in the report.
        generated_at_utc: the generation time printed in every page header.
    """

    path: Path
    sha256: str
    n_pages: int
    evidence_checks: tuple[EvidenceCheck, ...]
    chain: ChainReport
    generated_at_utc: datetime

    @property
    def all_evidence_ok(self) -> bool:
        """Whether every evidence file still matched its acquisition hash."""
        return all(check.ok for check in self.evidence_checks)


def _numbered_canvas(page_count: list[int]) -> type[Canvas]:
    """A canvas that prints "Page x of y", which needs every page laid out first."""

    class _NumberedCanvas(Canvas):  # type: ignore[misc]  # reportlab has no type hints
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self._pages: list[dict[str, Any]] = []

        def showPage(self) -> None:
            self._pages.append(dict(self.__dict__))
            self._startPage()

        def save(self) -> None:
            page_count.append(len(self._pages))
            for state in self._pages:
                self.__dict__.update(state)
                self.setFont("Helvetica", 7.5)
                self.drawRightString(
                    A4[0] - _MARGIN, 9 * mm, f"Page {self._pageNumber} of {len(self._pages)}"
                )
                super().showPage()
            super().save()

    return _NumberedCanvas


def _page_decorator(case: CaseRecord, generated_at: datetime) -> Callable[[Canvas, Any], None]:
    header_left = f"Case {case.number} - {case.title}"
    header_right = f"Generated {fmt_time(generated_at)}"

    def decorate(canvas: Canvas, _doc: Any) -> None:
        canvas.saveState()
        canvas.setFont("Helvetica-Bold", 8)
        left = header_left if len(header_left) <= 90 else header_left[:87] + "..."
        canvas.drawString(_MARGIN, A4[1] - 10 * mm, left)
        canvas.setFont("Helvetica", 8)
        canvas.drawRightString(A4[0] - _MARGIN, A4[1] - 10 * mm, header_right)
        canvas.setLineWidth(0.5)
        canvas.line(_MARGIN, A4[1] - 11.5 * mm, A4[0] - _MARGIN, A4[1] - 11.5 * mm)
        canvas.setFont("Helvetica", 7.5)
        canvas.drawString(_MARGIN, 9 * mm, "Forensic Face Analyzer - case report")
        canvas.restoreState()

    return decorate


def _media_text(info: dict[str, Any] | None) -> str:
    """E.g. "video (mp4, avc1), 640 x 360 px, 120 frames at 25.00 fps, 4.80 s"."""
    if not info:
        return "not probed"
    kind = str(info.get("kind", "media"))
    codec = ", ".join(str(info[k]) for k in ("format_name", "codec") if info.get(k))
    parts = [f"{kind} ({codec})" if codec else kind]
    if info.get("width") and info.get("height"):
        parts.append(f"{info['width']} x {info['height']} px")
    if kind == "video" and info.get("n_frames"):
        fps = info.get("fps")
        parts.append(f"{info['n_frames']} frames" + (f" at {fps:.2f} fps" if fps else ""))
    if info.get("duration_s"):
        parts.append(f"{info['duration_s']:.2f} s")
    return ", ".join(parts)


def _item_flowables(
    index: int, item: ItemData, cards: dict[str, DetectorCard], st: ReportStyles, width: float
) -> list[Flowable]:
    ev = item.evidence
    blocks: list[Flowable] = [
        # NOTE: a new page only when the item's heading, details and findings would not fit
        # on this one (an unconditional break left most of page 1 empty).
        CondPageBreak(_ITEM_START_ROOM_PT),
        Spacer(1, 10),
        Paragraph(f"Item {index}: {esc(ev.file_name)}", st.h1),
        kv_table(
            [
                ("Evidence id / UUID", f"{ev.id} / {ev.uuid}"),
                ("Original path", ev.original_path),
                ("Acquired", f"{fmt_time(ev.acquired_at_utc)} by {ev.added_by}"),
                ("Media", _media_text(ev.media_info)),
                ("Notes", ev.notes or "-"),
            ],
            st,
            width,
        ),
    ]
    if not item.check.ok:
        blocks.append(
            Paragraph(
                f"WARNING: at export this file did not match its acquisition hash "
                f"({esc(item.check.problem or '')}). The findings below concern the content that "
                "was acquired and analysed, not the file as it is now.",
                st.warn,
            )
        )
    thresholds = {name: card.threshold for name, card in cards.items()}
    if item.analysis is not None and item.analysis.result.provenance is not None:
        thresholds.update({d.name: d.threshold for d in item.analysis.result.provenance.detectors})
    names = {name: detector_label(card.display_name, name) for name, card in cards.items()}
    blocks += findings_block(item, st, width, thresholds, names)
    blocks += validation_block(item.analysis, st, width)
    blocks += reference_block(item.comparisons, st, width, names)
    blocks += timeline_block(item, st, width, thresholds)
    blocks.append(verdict_box(item, st, width))
    blocks += key_frames_block(item, st, width)
    blocks += media_provenance_block(item.analysis, list_filters(), st, width)
    blocks += provenance_block(item.analysis, st, width)
    blocks += limits_block(item.analysis, cards, st, width)
    return blocks


def _collect_items(
    store: CaseStore, case_id: int, actor: str, sha256_fn: Sha256Fn
) -> list[ItemData]:
    items: list[ItemData] = []
    try:
        comparisons = store.reference_comparisons(case_id)
    except CaseStoreError as exc:  # the report's audit verification names the damaged row
        logger.error("reference comparisons left out of the report: %s", exc)
        comparisons = ()
    for ev in store.list_evidence(case_id):
        check = store.verify_evidence(ev.id, actor=actor, sha256_fn=sha256_fn)
        analysis = store.latest_analysis(ev.id)
        aid = analysis.id if analysis is not None else None
        items.append(
            ItemData(
                evidence=ev,
                check=check,
                analysis=analysis,
                findings=store.findings(aid) if aid is not None else (),
                scores=store.scores(aid, scopes=("media", "frame")) if aid is not None else (),
                key_frames=store.key_frames(aid) if aid is not None else (),
                verdicts=store.verdicts(ev.id),
                comparisons=tuple(c for c in comparisons if c.suspect_evidence_id == ev.id),
            )
        )
    return items


def _write_pdf(
    story: list[Flowable], out_path: Path, case: CaseRecord, generated_at: datetime, actor: str
) -> int:
    page_count: list[int] = []
    decorate = _page_decorator(case, generated_at)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{out_path.name}.", suffix=".tmp", dir=out_path.parent)
    os.close(fd)
    try:
        doc = SimpleDocTemplate(
            tmp_name,
            pagesize=A4,
            leftMargin=_MARGIN,
            rightMargin=_MARGIN,
            topMargin=18 * mm,
            bottomMargin=16 * mm,
            title=f"Case report {case.number}",
            author=actor,
            subject=case.title,
            creator="Forensic Face Analyzer",
        )
        doc.build(
            story,
            onFirstPage=decorate,
            onLaterPages=decorate,
            canvasmaker=_numbered_canvas(page_count),
        )
        with open(tmp_name, "r+b") as handle:  # writable: Windows fsync needs it
            os.fsync(handle.fileno())
        os.replace(tmp_name, out_path)
    except BaseException:
        Path(tmp_name).unlink(missing_ok=True)
        raise
    return page_count[-1]


def _story(
    case: CaseRecord,
    items: Sequence[ItemData],
    entries: Sequence[AuditEntry],
    chain: ChainReport,
    cards: dict[str, DetectorCard],
    generated_at: datetime,
    actor: str,
) -> list[Flowable]:
    st = make_styles()
    width = A4[0] - 2 * _MARGIN
    story = case_section(case, generated_at=generated_at, actor=actor, st=st, width=width)
    story += [Spacer(1, 8), *evidence_section(items, st, width)]
    for index, item in enumerate(items, start=1):
        story += _item_flowables(index, item, cards, st, width)
    story += [PageBreak(), *audit_section(entries, chain, st, width)]
    return story


def build_case_report(
    store: CaseStore,
    case_id: int,
    out_path: Path,
    *,
    actor: str,
    sha256_fn: Sha256Fn = sha256_file,
    detector_cards: Sequence[DetectorCard] | None = None,
) -> ReportSummary:
    """Re-verify the evidence, write the case's PDF report and log ``report.exported``.

    Args:
        store: the open case store (the report reads nothing else but the evidence files).
        case_id: the case to report.
        out_path: the PDF to write (replaced atomically if it exists).
        actor: the analyst exporting; every check and the export are logged under this name.
        sha256_fn: hashes an evidence file (``engine.api.sha256_file``; injectable for tests).
        detector_cards: model-card data for the limits section; ``None`` asks
            ``engine.api.list_detectors()``.

    Raises:
        CaseNotFoundError: unknown case.
        OSError: the PDF cannot be written to ``out_path``.
    """
    out_path = Path(out_path).expanduser().absolute()
    case = store.get_case(case_id)
    cards_list = list_detectors() if detector_cards is None else detector_cards
    cards: dict[str, DetectorCard] = {card.name: card for card in cards_list}
    items = _collect_items(store, case_id, actor, sha256_fn)
    chain = store.verify_audit_chain()
    generated_at = utc_now()
    story = _story(case, items, store.audit_entries(case_id), chain, cards, generated_at, actor)
    n_pages = _write_pdf(story, out_path, case, generated_at, actor)
    digest = hashlib.sha256(out_path.read_bytes()).hexdigest()
    export = {
        "path": str(out_path),
        "sha256": digest,
        "n_pages": n_pages,
        "evidence_ok": all(item.check.ok for item in items),
        "chain_ok": chain.ok,
    }
    store.append_audit(
        actor=actor,
        action="report.exported",
        object_type="case",
        object_id=case_id,
        case_id=case_id,
        payload=export,
    )
    logger.info("Wrote case report %s (%d pages, sha256 %s)", out_path, n_pages, digest)
    return ReportSummary(
        path=out_path,
        sha256=digest,
        n_pages=n_pages,
        evidence_checks=tuple(item.check for item in items),
        chain=chain,
        generated_at_utc=generated_at,
    )
