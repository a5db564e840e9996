"""What makes a page up to date: its fingerprint (what the study reads) and the manifest of the
last successful build, which lists the fingerprint and SHA-256 of every page it published.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from custseg import files, i18n
from custseg.studies.plan import StudyJob


def job_fingerprint(job: StudyJob, run_fingerprint: str) -> str:
    """What a report depends on: its template, its parameters, the processed data, the catalog of
    its language (a corrected translation rebuilds the pages, not the data) and the other files it
    reads (a file that is absent counts as such, so its arrival changes the fingerprint)."""
    digest = hashlib.sha256()
    digest.update(job.template.read_bytes())
    digest.update(json.dumps(job.parameters, sort_keys=True).encode("utf-8"))
    digest.update(run_fingerprint.encode("utf-8"))
    language = job.parameters.get("language", i18n.LANGUAGES[0])
    if language != i18n.LANGUAGES[0]:
        digest.update(i18n.catalog_path(language).read_bytes())
    for position, path in enumerate(job.reads):
        digest.update(f"{position}:{files.file_digest(path) if path.is_file() else 'absent'}\n".encode("utf-8"))
    return digest.hexdigest()[:16]


def read_manifest(path: Path) -> dict[str, dict]:
    """href -> {fingerprint, sha256} of the pages the last successful build published.

    A manifest that cannot be read, or one of an older custseg (href -> fingerprint alone),
    trusts nothing: every page is rebuilt.
    """
    if not path.is_file():
        return {}
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError):
        return {}
    if not isinstance(manifest, dict):
        return {}
    return {href: entry for href, entry in manifest.items() if isinstance(entry, dict)}


def is_current(entry: dict | None, fingerprint: str, page: Path) -> bool:
    """The page is the one the manifest vouches for, built from what the study reads now."""
    return (entry is not None and entry.get("fingerprint") == fingerprint and page.is_file()
            and entry.get("sha256") == files.file_digest(page))
