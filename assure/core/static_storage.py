"""The static files' storage in production: whitenoise's compressed manifest, with each file's
address worked out once per process.

`{% static %}` asks the storage for a file's address on every page (the script, the logo): the
manifest storage parses the name, looks up its hashed name and joins it to STATIC_URL each time,
about a percent of a member's page (docs/performance.md). The manifest is read once when the
storage is made and never changes while the process runs (new files need a new release and a
restart, docs/operations.md), so neither can the addresses.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from django.conf import settings
from whitenoise.storage import CompressedManifestStaticFilesStorage

# Templates name a few dozen files; a bound keeps a stray loop over user input from growing it.
KEPT_URLS_MAX = 1024


class KeptURLStaticFilesStorage(CompressedManifestStaticFilesStorage):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._kept_urls: dict[tuple[str, bool, bool], str] = {}

    def url(self, name: str | None, force: bool = False) -> str:
        if name is None:  # an error of the caller's, reported as Django reports it
            return str(super().url(name, force))
        # DEBUG gives the unhashed address (the tests turn it on and off).
        key = (name, force, settings.DEBUG)
        found = self._kept_urls.get(key)
        if found is None:
            found = str(super().url(name, force))
            if len(self._kept_urls) >= KEPT_URLS_MAX:
                self._kept_urls.clear()
            self._kept_urls[key] = found
        return found

    def post_process(self, *args: Any, **kwargs: Any) -> Iterator[Any]:
        """collectstatic writes a new manifest: the addresses kept before it are forgotten."""
        yield from super().post_process(*args, **kwargs)
        self._kept_urls.clear()
