"""Qt-free case storage: cases, evidence, analyses, analyst verdicts, audit log, PDF reports.

Open the store with ``CaseStore.open(path_or_None)``; every method returns frozen records from
:mod:`forensic_gui.cases.records`. The PDF report lives in :mod:`forensic_gui.cases.report_pdf`
(``build_case_report``), imported separately so the GUI does not load reportlab at start.
"""

from forensic_gui.cases.db import default_db_path
from forensic_gui.cases.errors import (
    CaseDbCorruptError,
    CaseDbError,
    CaseDbLocationError,
    CaseNotFoundError,
    CaseStoreError,
    DuplicateCaseNumberError,
    EvidenceFileError,
    InvalidFieldError,
    RecordNotFoundError,
)
from forensic_gui.cases.records import (
    AnalysisRecord,
    AnalysisSummary,
    AnalystVerdict,
    AuditEntry,
    CaseRecord,
    CaseStatus,
    ChainReport,
    EvidenceCheck,
    EvidenceRecord,
    FindingRecord,
    KeyFrameImage,
    KeyFrameRecord,
    ScoreRecord,
    ScoreScope,
    VerdictRecord,
)
from forensic_gui.cases.repository import CaseStore

__all__ = [
    "AnalysisRecord",
    "AnalysisSummary",
    "AnalystVerdict",
    "AuditEntry",
    "CaseDbCorruptError",
    "CaseDbError",
    "CaseDbLocationError",
    "CaseNotFoundError",
    "CaseRecord",
    "CaseStatus",
    "CaseStore",
    "CaseStoreError",
    "ChainReport",
    "DuplicateCaseNumberError",
    "EvidenceCheck",
    "EvidenceFileError",
    "EvidenceRecord",
    "FindingRecord",
    "InvalidFieldError",
    "KeyFrameImage",
    "KeyFrameRecord",
    "RecordNotFoundError",
    "ScoreRecord",
    "ScoreScope",
    "VerdictRecord",
    "default_db_path",
]
