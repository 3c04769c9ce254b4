"""Which assessment, reviewer and characteristics a reviewer workbook was issued for, signed.

The identity travels inside the workbook on a hidden sheet (which survives a save in Excel and
LibreOffice) and is signed with an HMAC keyed by the assessment's secret, which never leaves the
assessment folder. The file name is never trusted.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass

from bva_excel.model.kinds import IssueKind

IDENTITY_SHEET = "bva_identity"
FORMAT = "bva-excel reviewer workbook 1"
FORMATS = {IssueKind.REVIEW: FORMAT,  # the kind is signed with the rest
           IssueKind.MODERATION: "bva-excel moderation workbook 1",
           IssueKind.PROGRESS: "bva-excel progress workbook 1"}


@dataclass(frozen=True)
class IssueIdentity:
    assessment_id: str
    reviewer_id: str  # for a progress workbook, the service area it is for
    issue_id: str
    issued_at: str  # ISO timestamp, as text so no application turns it into a number
    refs: tuple[str, ...]  # for a progress workbook, action IDs
    kind: IssueKind = IssueKind.REVIEW  # which workbook it is

    def payload(self) -> bytes:
        return "\n".join([FORMATS[self.kind], self.assessment_id, self.reviewer_id, self.issue_id, self.issued_at,
                          ",".join(self.refs)]).encode("utf-8")

    def signature(self, secret: bytes) -> str:
        return hmac.new(secret, self.payload(), hashlib.sha256).hexdigest()

    def verify(self, secret: bytes, signature: str) -> bool:
        return hmac.compare_digest(self.signature(secret), signature.strip().lower())

    def rows(self, secret: bytes) -> list[tuple[str, str]]:
        """Key/value rows for the hidden identity sheet."""
        return [("format", FORMATS[self.kind]), ("assessment_id", self.assessment_id),
                ("reviewer_id", self.reviewer_id), ("issue_id", self.issue_id),
                ("issued_at", self.issued_at), ("refs", ",".join(self.refs)),
                ("signature", self.signature(secret))]

    @classmethod
    def from_rows(cls, values: dict[str, str]) -> tuple["IssueIdentity", str]:
        """Rebuild from the sheet's key/value rows; returns the identity and its claimed signature.

        Raises KeyError naming the first missing key, ValueError for a format this version does not write.
        """
        kinds = {text: kind for kind, text in FORMATS.items()}
        if values["format"] not in kinds:
            raise ValueError(f"its format is '{values['format']}', not one this version writes")
        refs = tuple(r for r in values["refs"].split(",") if r)
        identity = cls(values["assessment_id"], values["reviewer_id"], values["issue_id"],
                       values["issued_at"], refs, kinds[values["format"]])
        return identity, values["signature"]
