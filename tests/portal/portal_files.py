"""The portal fixtures' files: a real scan and a drawn signature, and their upload to an application.

A file reference in form data is valid only for a file uploaded to that application by its applicant
or assisting clerk, so tests that save complete data first upload the scan with `attach_fixture_files`.
"""

from __future__ import annotations

import base64
import hashlib

#: A real scan (a small PNG): FILES refer to it, and `attach_fixture_files` uploads it to an application.
PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAQAAAAECAIAAAAmkwkpAAAAFElEQVR4nGMUqTjBAANMDEgANwcAQrgBXB4RtPAAAAAASUVORK5CYII=")
SHA = hashlib.sha256(PNG).hexdigest()
FILES = [{"sha256": SHA, "name": "scan.png", "media_type": "image/png", "size": len(PNG)}]
#: A drawn signature (a stroke on a transparent pad), as the signature pad posts it.
SIGNATURE = ("data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAACgAAAAQCAYAAABk1z2tAAAAhElEQVR42u2WUQoAIQhEm+5/59mvBTFJS4"
             "NY1p9A1J6TQiDZbrbeLrdvAQKgPK8C1HAnIWXtvppAEpa/CkzXhLfFETjpzyqma00BPYgsZCTfBNQyzy5fibXyvPgBcFeVaF4UzAQ8+W"
             "Tbjb+AVUOv66SbJlm6kZm5dBWsgJOQJc3+v5mkPeykgwvtIlrrAAAAAElFTkSuQmCC")


def attach_fixture_files(session, storage, app_id: int) -> None:
    """Upload the fixture scan to `app_id` as its applicant did (what FILES refer to: valid at save and submit)."""
    from formflow.db.models import Application, ApplicationFile
    from formflow.files.uploads import store_upload

    app = session.get(Application, app_id)
    store_upload(session, storage, PNG, "image/png")
    session.add(ApplicationFile(application_id=app.id, material="scan", sha256=SHA, original_name="scan.png",
                                uploaded_by=app.applicant_id))
    session.flush()
