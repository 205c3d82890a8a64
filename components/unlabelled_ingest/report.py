"""The unlabelled folder's ingest report: entries seen, photos ingested, files skipped and why."""

from __future__ import annotations

import collections
import dataclasses
from typing import Dict, List, Optional, Tuple

from imagepipe.components import reports
from imagepipe.components.unlabelled_ingest import listing as listing_lib
from imagepipe.components.unlabelled_ingest import spec


@dataclasses.dataclass(frozen=True)
class UnlabelledIngestReport(reports.IngestReport):
    """An unlabelled folder's ingestion; ``seen == ingested + skipped``."""

    KIND = "unlabelled folder ingest report"

    root: str
    seen: int
    ingested: int
    skipped: int
    skipped_by_reason: Dict[str, int]
    skipped_files: Tuple[reports.SkippedFile, ...]

    @classmethod
    def from_listing(cls, root: str, listing: listing_lib.Listing) -> "UnlabelledIngestReport":
        """The report of ``listing``, the checked listing of ``root``."""
        return cls(source="unlabelled folder", root=root, seen=listing.seen,
                   ingested=len(listing.photos), skipped=len(listing.skipped),
                   skipped_by_reason=dict(collections.Counter(
                       item.reason for item in listing.skipped)),
                   skipped_files=tuple(reports.SkippedFile(item.path, item.reason, item.detail)
                                       for item in listing.skipped))

    @property
    def split_totals(self) -> Dict[str, int]:
        """The one split's examples."""
        return {spec.SPLIT: self.ingested}

    @property
    def kept_examples(self) -> int:
        """Photos ingested."""
        return self.ingested

    def summary_lines(self, where: str = "", max_listed: Optional[int] = None) -> List[str]:
        """Counts, then each skipped file with its reason (at most ``max_listed``)."""
        listed = f" (each listed in {where})" if where and self.skipped else ""
        lines = [f"  unlabelled folder {self.root}: {self.seen} entries seen = "
                 f"{self.ingested} ingested + {self.skipped} skipped{listed}"]
        shown = self.skipped_files if max_listed is None else self.skipped_files[:max_listed]
        lines.extend(f"    {entry.path}  {entry.reason}: {entry.detail}" for entry in shown)
        if len(shown) < len(self.skipped_files):
            lines.append(f"    ... and {len(self.skipped_files) - len(shown)} more")
        return lines
