"""The import settings, read once from the app's configuration."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ..documents.parsed import ReadingLimits


@dataclass(frozen=True)
class ImportSettings:
    database_url: str
    memory_mb: int = 1024
    timeout_s: float = 120.0
    jobs_per_user: int = 2
    workers: int = 2
    # A running job's lease is renewed while its process lives; once lapsed, the job is taken
    # back (its process died with its server) and started again while attempts remain.
    lease_s: float = 30.0
    max_attempts: int = 2
    reading: ReadingLimits = ReadingLimits()

    @classmethod
    def from_config(cls, config: Mapping[str, Any], database_url: str) -> ImportSettings:
        return cls(
            database_url=database_url,
            memory_mb=config["IMPORT_MAX_MEMORY_MB"],
            timeout_s=config["IMPORT_TIMEOUT_S"],
            jobs_per_user=max(1, config["IMPORT_JOBS_PER_USER"]),
            workers=max(1, config["IMPORT_WORKERS"]),
            lease_s=config["IMPORT_LEASE_S"],
            reading=ReadingLimits.from_config(config),
        )

    @property
    def memory_label(self) -> str:
        """The memory cap as a user reads it: "1 GB", "512 MB"."""
        if self.memory_mb % 1024 == 0:
            return f"{self.memory_mb // 1024} GB"
        return f"{self.memory_mb} MB"
