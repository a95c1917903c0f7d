"""Object storage over the S3 protocol (boto3): MinIO, Alibaba OSS and Tencent COS in S3 mode, AWS.

Files are content-addressed like the local storage (`<prefix>ab/cd/<sha256>`),
so N stateless processes on N nodes share one bucket and a file uploaded
through one is served by any other. Files are sealed before they leave the
process (`files.sealing`: a data key per file wrapped by the data keys), so
the bucket and its provider hold only ciphertext; a file stored before sealing
still reads. Chosen with `FORMFLOW_STORAGE=s3` and
configured by `FORMFLOW_S3_BUCKET`, `FORMFLOW_S3_ENDPOINT` (the provider's S3
endpoint; empty for AWS), `FORMFLOW_S3_REGION`, `FORMFLOW_S3_ACCESS_KEY`,
`FORMFLOW_S3_SECRET_KEY` and `FORMFLOW_S3_PREFIX`. At start it checks the
bucket answers (a wrong key or endpoint stops the start with the setting named).
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from formflow.files.storage import Content, StorageError, closing_pieces, digest_of, reader_of, storages
from formflow.text.catalogue import _

#: Sealed files up to this size are sent in one request; larger ones by multipart, in parts of this size.
PART = 5 * 1024 * 1024  # the smallest part S3 accepts
#: Parts in flight at once (memory is about PART × this, whatever the file's size).
PARTS_IN_FLIGHT = 2
#: A sealed file is kept in memory up to this size before it is spooled to disk.
SPOOL = 1024 * 1024


def _env(name: str) -> str:
    return os.environ.get(name, "").strip()


def _client(endpoint: str, region: str, access_key: str, secret_key: str) -> Any:
    import boto3
    from botocore.config import Config

    return boto3.client(
        "s3", endpoint_url=endpoint or None, region_name=region or "us-east-1",
        aws_access_key_id=access_key or None, aws_secret_access_key=secret_key or None,
        config=Config(connect_timeout=5, read_timeout=30, retries={"max_attempts": 3, "mode": "standard"},
                      s3={"addressing_style": "path"} if endpoint else {}),
    )


@storages.register("s3")
@dataclass
class S3Storage:
    """Files in one bucket under `prefix`, keyed by their SHA-256."""

    client: Any
    bucket: str
    prefix: str = ""

    @classmethod
    def check(cls, settings: Any) -> list[str]:
        """The bucket is named and answers with these credentials."""
        bucket = _env("FORMFLOW_S3_BUCKET")
        if not bucket:
            return [_("FORMFLOW_S3_BUCKET: name the bucket the files go to (FORMFLOW_STORAGE=s3)")]
        try:
            cls.from_settings(settings).client.head_bucket(Bucket=bucket)
        except Exception as exc:  # noqa: BLE001 - botocore raises many kinds; each means "cannot start"
            return [_("FORMFLOW_S3_BUCKET / FORMFLOW_S3_ENDPOINT: the bucket %(bucket)s does not answer at "
                      "%(endpoint)s (%(error)s)", bucket=bucket, endpoint=_env("FORMFLOW_S3_ENDPOINT") or "AWS",
                      error=type(exc).__name__)]
        return []

    @classmethod
    def from_settings(cls, settings: Any, **_context: Any) -> S3Storage:
        client = _client(_env("FORMFLOW_S3_ENDPOINT"), _env("FORMFLOW_S3_REGION"), _env("FORMFLOW_S3_ACCESS_KEY"),
                         _env("FORMFLOW_S3_SECRET_KEY"))
        prefix = _env("FORMFLOW_S3_PREFIX")
        return cls(client, _env("FORMFLOW_S3_BUCKET"), prefix.rstrip("/") + "/" if prefix else "")

    def key_of(self, sha256: str) -> str:
        if len(sha256) != 64 or any(c not in "0123456789abcdef" for c in sha256):
            raise StorageError(_("Invalid file identifier: %(value)s", value=repr(sha256)))
        return f"{self.prefix}{sha256[:2]}/{sha256[2:4]}/{sha256}"

    def exists(self, sha256: str) -> bool:
        from botocore.exceptions import ClientError

        try:
            self.client.head_object(Bucket=self.bucket, Key=self.key_of(sha256))
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
                return False
            raise StorageError(_("The file storage does not answer: %(reason)s", reason=exc)) from exc
        return True

    def write(self, data: Content) -> str:
        """Seal `data` piece by piece into a spooled file and send it (multipart above `PART`)."""
        digest = digest_of(data)
        if self.exists(digest):
            return digest
        from boto3.s3.transfer import TransferConfig

        from formflow.files.sealing import seal_stream
        from formflow.personal.crypto import active_keys

        transfer = TransferConfig(multipart_threshold=PART, multipart_chunksize=PART, max_concurrency=PARTS_IN_FLIGHT)
        transfer.max_in_memory_upload_chunks = PARTS_IN_FLIGHT  # s3transfer reads ahead 10 parts by default
        with tempfile.SpooledTemporaryFile(max_size=SPOOL) as sealed:
            for piece in seal_stream(active_keys(), reader_of(data), digest):
                sealed.write(piece)
            sealed.seek(0)
            try:
                self.client.upload_fileobj(sealed, self.bucket, self.key_of(digest),
                                           ExtraArgs={"ChecksumAlgorithm": "SHA256"},
                                           Config=transfer)
            except Exception as exc:  # noqa: BLE001
                raise StorageError(_("The file could not be saved: %(reason)s", reason=type(exc).__name__)) from exc
        return digest

    def read(self, sha256: str) -> bytes:
        body = b"".join(self.open(sha256))
        if hashlib.sha256(body).hexdigest() != sha256:
            raise StorageError(_("The file %(id)s… came back altered from the storage", id=sha256[:12]))
        return body

    def open(self, sha256: str) -> Iterator[bytes]:
        """The file's content as it arrives from the bucket, decrypted chunk by chunk."""
        from botocore.exceptions import ClientError

        from formflow.files.sealing import open_stream
        from formflow.personal.crypto import active_keys

        try:
            body = self.client.get_object(Bucket=self.bucket, Key=self.key_of(sha256))["Body"]
        except ClientError as exc:
            raise StorageError(_("The file %(id)s… does not exist", id=sha256[:12])) from exc
        try:
            pieces = open_stream(active_keys(), body, sha256)
        except BaseException:
            body.close()
            raise
        return closing_pieces(pieces, body)


