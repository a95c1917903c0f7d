"""SQLAlchemy 2.0 typed models: the platform's fixed data model.

What a locality decides (forms, tables, workflows) is not here: it lives in
pack files and, once an application pins it, in `PackVersion` rows.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Any, ClassVar, overload

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Table,
    Text,
    UniqueConstraint,
    false,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from formflow.personal.crypto import SealedJSON

JSONType = JSON().with_variant(JSONB(), "postgresql")
#: Materialized office paths compare byte-wise so that prefix ranges use the index.
PathType = String(400).with_variant(String(400, collation="C"), "postgresql")

#: Office kinds that are regions (their level is their kind).
REGION_KINDS = ("province", "city", "district", "street", "community")
#: Office kinds that sit at the level of their parent region.
AGENCY_KINDS = ("bureau", "centre")


def utcnow() -> datetime:
    return datetime.now(UTC)


@overload
def as_utc(value: datetime) -> datetime: ...
@overload
def as_utc(value: None) -> None: ...
@overload
def as_utc(value: datetime | None) -> datetime | None: ...
def as_utc(value: datetime | None) -> datetime | None:
    """A stored timestamp as an aware UTC datetime (SQLite gives naive ones back)."""
    if value is not None and value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value


class Base(DeclarativeBase):
    type_annotation_map = {dict[str, Any]: JSONType, list[Any]: JSONType}

    if TYPE_CHECKING:
        # Every model here is mapped to a table (`__tablename__`), never to another selectable.
        __table__: ClassVar[Table]


class Office(Base):
    """A region or an agency; `path` is the materialized path of the region it covers."""

    __tablename__ = "offices"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    pack: Mapped[str] = mapped_column(String(64), index=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(16))
    level: Mapped[str] = mapped_column(String(16))
    parent_id: Mapped[str | None] = mapped_column(ForeignKey("offices.id"), index=True)
    region_code: Mapped[str | None] = mapped_column(String(12))
    #: '/441400/441402/' — for a region its own path, for an agency its parent's.
    path: Mapped[str] = mapped_column(PathType, index=True)
    selectable: Mapped[bool] = mapped_column(Boolean, default=False)

    parent: Mapped[Office | None] = relationship(remote_side=[id])


class Account(Base):
    __tablename__ = "accounts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(100))
    password_hash: Mapped[str | None] = mapped_column(String(255))
    id_number_enc: Mapped[bytes | None] = mapped_column(LargeBinary)
    id_number_hash: Mapped[str | None] = mapped_column(String(64), index=True)
    mobile_enc: Mapped[bytes | None] = mapped_column(LargeBinary)
    mobile_hash: Mapped[str | None] = mapped_column(String(64), index=True)
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    failed_logins: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    #: Bumped when the password or roles change: other sessions end.
    session_epoch: Mapped[int] = mapped_column(Integer, default=0)
    is_demo: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    roles: Mapped[list[RoleAssignment]] = relationship(
        back_populates="account", cascade="all, delete-orphan"
    )


class RoleAssignment(Base):
    """A role an account holds, at an office (none for citizens and configurators)."""

    __tablename__ = "role_assignments"
    __table_args__ = (UniqueConstraint("account_id", "role", "office_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    role: Mapped[str] = mapped_column(String(64))
    office_id: Mapped[str | None] = mapped_column(ForeignKey("offices.id"))
    pack: Mapped[str | None] = mapped_column(String(64))

    account: Mapped[Account] = relationship(back_populates="roles")
    office: Mapped[Office | None] = relationship()


class PackVersion(Base):
    """Content-addressed copy of one pack document, as an application pinned it."""

    __tablename__ = "pack_versions"

    hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    pack: Mapped[str] = mapped_column(String(64))
    matter: Mapped[str | None] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(32))
    name: Mapped[str] = mapped_column(String(200))
    #: plain JSON, not JSONB: key order is meaning here (a form's steps are its properties in order)
    content: Mapped[dict[str, Any]] = mapped_column(JSON)
    loaded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class Application(Base):
    """One application (or draft) of one matter, with its queue projection columns."""

    __tablename__ = "applications"
    __table_args__ = (
        Index("ix_app_queue", "stage", "office_path", "deadline"),
        Index("ix_app_applicant", "applicant_id", "status"),
        Index("ix_app_category", "category"),
        Index("ix_app_submitted", "submitted_at"),
    )

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    number: Mapped[str | None] = mapped_column(String(40), unique=True)
    pack: Mapped[str] = mapped_column(String(64))
    matter: Mapped[str] = mapped_column(String(64))
    #: draft | active | closed
    status: Mapped[str] = mapped_column(String(16), default="draft")
    #: the end result once closed (approved, rejected, withdrawn…)
    result: Mapped[str | None] = mapped_column(String(32))
    applicant_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"))
    channel: Mapped[str | None] = mapped_column(String(32))
    assisted_by_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id"))
    office_id: Mapped[str | None] = mapped_column(ForeignKey("offices.id"))
    office_path: Mapped[str | None] = mapped_column(PathType)
    #: {"form": hash, "materials": hash, "rules": hash, "workflow": hash, "parameters": hash, ...}
    versions: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    #: what the citizen typed, encrypted at rest (crypto.SealedJSON)
    data: Mapped[dict[str, Any]] = mapped_column(SealedJSON, default=dict)
    current_step: Mapped[str | None] = mapped_column(String(64))
    #: stage ids the application is at now (several while parallel branches run)
    stages: Mapped[list[Any]] = mapped_column(JSONType, default=list)
    stage: Mapped[str | None] = mapped_column(String(64))
    category: Mapped[str | None] = mapped_column(String(64))
    submitted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    deadline: Mapped[date | None] = mapped_column(Date)
    overdue: Mapped[bool] = mapped_column(Boolean, default=False)
    household_hashes: Mapped[list[Any]] = mapped_column(JSONType, default=list)
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow, onupdate=utcnow
    )

    __mapper_args__ = {"version_id_col": version}

    events: Mapped[list[Event]] = relationship(order_by="Event.id", viewonly=True)

    if TYPE_CHECKING:
        # Mapped at the end of this module (migration 0002's columns come last); declared here for the type checker.
        awaiting: Mapped[str | None]
        arrived: Mapped[dict[str, list[str]] | None]


class HouseholdMember(Base):
    """Keyed hash of each member's ID number, for the duplicate-household check."""

    __tablename__ = "household_members"
    __table_args__ = (Index("ix_household_lookup", "matter", "id_hash", "active"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("applications.id", ondelete="CASCADE"), index=True)
    matter: Mapped[str] = mapped_column(String(64))
    id_hash: Mapped[str] = mapped_column(String(64))
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class StageClock(Base):
    """The time limit of one stage an application is at (pausable)."""

    __tablename__ = "stage_clocks"
    __table_args__ = (Index("ix_clock_due", "running", "due_on"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("applications.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(64))
    started_on: Mapped[date] = mapped_column(Date)
    due_on: Mapped[date | None] = mapped_column(Date)
    unit: Mapped[str] = mapped_column(String(16))
    days: Mapped[int] = mapped_column(Integer)
    running: Mapped[bool] = mapped_column(Boolean, default=True)
    paused_on: Mapped[date | None] = mapped_column(Date)
    stopped_on: Mapped[date | None] = mapped_column(Date)


class ApplicationStage(Base):
    """One row per current stage of an active application: the queue's indexed projection.

    Parallel branches give several rows; the workflow engine keeps them in step
    with `Application.stages` in the same transaction as every move.
    """

    __tablename__ = "application_stages"
    __table_args__ = (
        UniqueConstraint("application_id", "stage"),
        Index("ix_app_stage_queue", "stage", "office_path"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("applications.id", ondelete="CASCADE"), index=True)
    stage: Mapped[str] = mapped_column(String(64))
    pack: Mapped[str] = mapped_column(String(64))
    office_path: Mapped[str | None] = mapped_column(PathType)

    if TYPE_CHECKING:
        # Mapped at the end of this module with migration 0012; declared here for the type checker.
        overdue: Mapped[bool]
        due: Mapped[date]


class Event(Base):
    """Append-only history: the database refuses UPDATE and DELETE on this table."""

    __tablename__ = "events"
    __table_args__ = (Index("ix_events_app", "application_id", "id"),)

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("applications.id"))
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id"))
    actor_role: Mapped[str | None] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(64))
    from_stage: Mapped[str | None] = mapped_column(String(64))
    to_stage: Mapped[str | None] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    note: Mapped[str | None] = mapped_column(SealedJSON)  # free text, sealed (migration 0015)
    details: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)


class StoredFile(Base):
    """A file's content, addressed by its SHA-256."""

    __tablename__ = "stored_files"

    sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    size: Mapped[int] = mapped_column(BigInteger)
    media_type: Mapped[str] = mapped_column(String(100))
    #: "held" while no virus scan has succeeded (the scanner was down): not shown to staff (migration 0015)
    scan_status: Mapped[str | None] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class ApplicationFile(Base):
    """A file attached to an application as a material; replaced ones stay."""

    __tablename__ = "application_files"
    __table_args__ = (Index("ix_appfile_app", "application_id", "material"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("applications.id", ondelete="CASCADE"))
    material: Mapped[str] = mapped_column(String(64))
    sha256: Mapped[str] = mapped_column(ForeignKey("stored_files.sha256"))
    original_name: Mapped[str] = mapped_column(String(255))
    uploaded_by: Mapped[int | None] = mapped_column(ForeignKey("accounts.id"))
    uploaded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    replaced_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class ReviewMarking(Base):
    """A reviewer's marking of a quantification table, with the table's version."""

    __tablename__ = "review_markings"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("applications.id", ondelete="CASCADE"), index=True)
    stage: Mapped[str] = mapped_column(String(64))
    table_id: Mapped[str] = mapped_column(String(64))
    table_version: Mapped[str] = mapped_column(String(64))
    marking: Mapped[dict[str, Any]] = mapped_column(JSONType)
    outcome: Mapped[str] = mapped_column(String(16))
    reviewer_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"))
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class Notice(Base):
    """An issued, numbered notice; its PDF is a stored file and never changes."""

    __tablename__ = "notices"
    __table_args__ = (UniqueConstraint("pack", "kind", "year", "seq"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("applications.id"), index=True)
    pack: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(64))
    title: Mapped[str] = mapped_column(String(100))
    year: Mapped[int] = mapped_column(Integer)
    seq: Mapped[int] = mapped_column(Integer)
    number: Mapped[str] = mapped_column(String(100))
    #: the PDF, once the outbox rendered it (migration 0010: None while `status` is pending)
    sha256: Mapped[str | None] = mapped_column(ForeignKey("stored_files.sha256"))
    issued_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    event_id: Mapped[int | None] = mapped_column(ForeignKey("events.id"))
    #: pending (numbered, its PDF rendered after commit by the outbox) | ready (migration 0010)
    status: Mapped[str] = mapped_column(String(16), default="ready", server_default="ready")


class CalendarOverride(Base):
    """A working-day correction entered by a configurator (beats the seed files)."""

    __tablename__ = "calendar_overrides"
    __table_args__ = (UniqueConstraint("pack", "day"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    pack: Mapped[str | None] = mapped_column(String(64))
    day: Mapped[date] = mapped_column(Date)
    #: holiday | workday
    kind: Mapped[str] = mapped_column(String(16))
    name: Mapped[str] = mapped_column(String(100))
    note: Mapped[str | None] = mapped_column(Text)


class Consent(Base):
    """A recorded decision on a privacy agreement, with its version and time."""

    __tablename__ = "consents"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"))
    pack: Mapped[str] = mapped_column(String(64))
    matter: Mapped[str] = mapped_column(String(64))
    agreement_version: Mapped[str] = mapped_column(String(32))
    accepted: Mapped[bool] = mapped_column(Boolean)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class LoginFailure(Base):
    """A failed sign-in, counted per account key and per address."""

    __tablename__ = "login_failures"
    __table_args__ = (Index("ix_login_failures_address", "address", "at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    account_key: Mapped[str] = mapped_column(String(100))
    address: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class SmsCode(Base):
    """A one-time sign-in code sent by SMS (only its keyed hash is kept)."""

    __tablename__ = "sms_codes"
    __table_args__ = (Index("ix_sms_codes_mobile", "mobile_hash", "id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    mobile_hash: Mapped[str] = mapped_column(String(64))
    code_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    tries: Mapped[int] = mapped_column(Integer, default=0)
    used: Mapped[bool] = mapped_column(Boolean, default=False)


# --------------------------------------------------------------------------- workflow engine
# Appended with migration 0002: correction state, parallel-branch arrivals,
# objections during a timer stage, and gap-free notice numbering.

#: Who the application waits for while a correction request is open ("citizen"), else None.
Application.awaiting = mapped_column(String(16), nullable=True)
#: Parallel branches that reached a join stage: {join_stage_id: [branch stage ids]}.
Application.arrived = mapped_column(JSONType, nullable=True, default=dict)


class Correction(Base):
    """A request to the citizen to correct or complete materials, and its answer."""

    __tablename__ = "corrections"
    __table_args__ = (Index("ix_correction_app", "application_id", "answered_on"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("applications.id", ondelete="CASCADE"))
    stage: Mapped[str] = mapped_column(String(64))
    note: Mapped[str | None] = mapped_column(Text)
    #: material kinds the reviewer names as missing or deficient
    missing: Mapped[list[Any]] = mapped_column(JSONType, default=list)
    requested_by: Mapped[int | None] = mapped_column(ForeignKey("accounts.id"))
    requested_on: Mapped[date] = mapped_column(Date)
    answered_by: Mapped[int | None] = mapped_column(ForeignKey("accounts.id"))
    answered_on: Mapped[date | None] = mapped_column(Date)
    answer: Mapped[str | None] = mapped_column(Text)


class Objection(Base):
    """An objection raised during a timer stage (e.g. public notice); open until resolved."""

    __tablename__ = "objections"
    __table_args__ = (Index("ix_objection_app", "application_id", "stage"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("applications.id", ondelete="CASCADE"))
    stage: Mapped[str] = mapped_column(String(64))
    note: Mapped[str] = mapped_column(Text)
    raised_by: Mapped[int | None] = mapped_column(ForeignKey("accounts.id"))
    raised_on: Mapped[date] = mapped_column(Date)
    resolved_by: Mapped[int | None] = mapped_column(ForeignKey("accounts.id"))
    resolved_on: Mapped[date | None] = mapped_column(Date)
    upheld: Mapped[bool | None] = mapped_column(Boolean)
    resolution: Mapped[str | None] = mapped_column(Text)


class NoticeCounter(Base):
    """Last number issued per (pack, notice kind, year); incremented under its row lock."""

    __tablename__ = "notice_counters"

    pack: Mapped[str] = mapped_column(String(64), primary_key=True)
    kind: Mapped[str] = mapped_column(String(64), primary_key=True)
    year: Mapped[int] = mapped_column(Integer, primary_key=True)
    last: Mapped[int] = mapped_column(Integer, default=0)


# --------------------------------------------------------------------------- JSON API
# Appended with migration 0005: refresh tokens of the API and idempotency keys.


class ApiRefreshToken(Base):
    """A refresh token of the JSON API (only its SHA-256 is kept); rotated on every use.

    Tokens issued from one sign-in share a `family`: using a token marks it used and
    issues the next of the family; presenting a used token again (a stolen copy)
    revokes the whole family. `epoch` is the account's session_epoch at sign-in.
    """

    __tablename__ = "api_refresh_tokens"
    __table_args__ = (Index("ix_api_refresh_family", "family"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    family: Mapped[str] = mapped_column(String(32))
    epoch: Mapped[int] = mapped_column(Integer)
    issued_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class ApiIdempotencyKey(Base):
    """The response given to one account's request under one Idempotency-Key (replayed on retry)."""

    __tablename__ = "api_idempotency_keys"
    __table_args__ = (UniqueConstraint("account_id", "key", name="uq_api_idempotency_account_key"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(String(200))
    #: "POST /api/v1/applications/12/submit"
    operation: Mapped[str] = mapped_column(String(300))
    request_hash: Mapped[str] = mapped_column(String(64))
    status_code: Mapped[int] = mapped_column(Integer)
    #: sealed (migration 0015): a response carries full ID numbers, mobiles and incomes
    response: Mapped[dict[str, Any] | None] = mapped_column(SealedJSON)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    #: replayed until then, pruned after (migration 0015; FORMFLOW_IDEMPOTENCY_HOURS)
    expires_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), index=False)


# --------------------------------------------------------------------------- allocation
# Appended with migration 0006: households after approval (one file per household), their append-only
# history, lottery batches, subsidy rosters, follow-up check campaigns.


class Household(Base):
    """An approved household in allocation: waiting list, flat, or subsidy (its archive)."""

    __tablename__ = "households"
    __table_args__ = (
        Index("ix_household_list", "pack", "matter", "kind", "status"),
        Index("ix_household_applicant", "applicant_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    #: archive number shown publicly (no personal data in it)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    pack: Mapped[str] = mapped_column(String(64))
    matter: Mapped[str] = mapped_column(String(64))
    application_id: Mapped[int] = mapped_column(ForeignKey("applications.id"), unique=True)
    applicant_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"))
    office_id: Mapped[str | None] = mapped_column(ForeignKey("offices.id"))
    office_path: Mapped[str | None] = mapped_column(PathType)
    #: the allocation mode id of the pack (e.g. a key of allocation.yaml `modes`)
    mode: Mapped[str] = mapped_column(String(64))
    #: flat | subsidy
    kind: Mapped[str] = mapped_column(String(16))
    #: waiting | offered | housed | subsidised | stopped | recovered | removed
    status: Mapped[str] = mapped_column(String(16))
    name: Mapped[str] = mapped_column(SealedJSON)  # sealed (migration 0015)
    id_masked: Mapped[str] = mapped_column(String(40))
    facts: Mapped[dict[str, Any]] = mapped_column(SealedJSON, default=dict)  # sealed (migration 0015)
    approved_on: Mapped[date] = mapped_column(Date)
    #: the date the household's place on the waiting list counts from
    queued_on: Mapped[date | None] = mapped_column(Date)
    #: since when the flat is let or the subsidy is paid
    since: Mapped[date | None] = mapped_column(Date)
    declines: Mapped[int] = mapped_column(Integer, default=0)
    #: the flat offered or let: {batch, code, address, layout, area}
    flat: Mapped[dict[str, Any] | None] = mapped_column(JSONType, nullable=True)
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, onupdate=utcnow)

    __mapper_args__ = {"version_id_col": version}


class HouseholdEvent(Base):
    """Append-only history of a household (the database refuses UPDATE and DELETE)."""

    __tablename__ = "household_events"
    __table_args__ = (Index("ix_household_events", "household_id", "id"),)

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    household_id: Mapped[int] = mapped_column(ForeignKey("households.id"))
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id"))
    action: Mapped[str] = mapped_column(String(64))
    from_status: Mapped[str | None] = mapped_column(String(16))
    to_status: Mapped[str | None] = mapped_column(String(16))
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    note: Mapped[str | None] = mapped_column(Text)
    details: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)


class LotteryBatch(Base):
    """A batch of flats drawn by lot: inputs and seed hash committed before, seed revealed after."""

    __tablename__ = "lottery_batches"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    pack: Mapped[str] = mapped_column(String(64))
    matter: Mapped[str] = mapped_column(String(64))
    mode: Mapped[str] = mapped_column(String(64))
    title: Mapped[str] = mapped_column(String(200))
    #: the workflow stage (`kind: lottery`) whose applications are the entrants; None: waiting households
    stage: Mapped[str | None] = mapped_column(String(64), nullable=True)  # migration 0020
    #: draft | committed | drawn
    status: Mapped[str] = mapped_column(String(16), default="draft")
    flats: Mapped[list[Any]] = mapped_column(JSONType, default=list)
    entrants: Mapped[list[Any]] = mapped_column(JSONType, default=list)
    inputs_sha256: Mapped[str | None] = mapped_column(String(64))
    seed_sha256: Mapped[str | None] = mapped_column(String(64))
    #: secret until the draw; shown with the result afterwards
    seed: Mapped[str | None] = mapped_column(SealedJSON)  # sealed (migration 0015)
    witness: Mapped[str | None] = mapped_column(String(200))
    #: committed before the draw (migration 0015): where the witness comes from, the hash of a sealed value
    witness_source: Mapped[str | None] = mapped_column(String(300))
    witness_sha256: Mapped[str | None] = mapped_column(String(64))
    committed_by: Mapped[int | None] = mapped_column(ForeignKey("accounts.id"))
    result: Mapped[list[Any] | None] = mapped_column(JSONType, nullable=True)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("accounts.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    committed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    drawn_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    version: Mapped[int] = mapped_column(Integer, default=1)

    __mapper_args__ = {"version_id_col": version}


class SubsidyRoster(Base):
    """One period's subsidy roster (one per quarter): a snapshot of rows and their total."""

    __tablename__ = "subsidy_rosters"
    __table_args__ = (UniqueConstraint("pack", "matter", "period"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    pack: Mapped[str] = mapped_column(String(64))
    matter: Mapped[str] = mapped_column(String(64))
    #: "2026-Q1"
    period: Mapped[str] = mapped_column(String(16))
    rows: Mapped[list[Any]] = mapped_column(SealedJSON, default=list)  # sealed (migration 0015)
    #: decimal as text ("12345.60"), summed from the rows
    total: Mapped[str] = mapped_column(String(32))
    created_by: Mapped[int | None] = mapped_column(ForeignKey("accounts.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class CheckCampaign(Base):
    """A periodic or ad-hoc follow-up check campaign over households with flats or subsidies."""

    __tablename__ = "check_campaigns"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    pack: Mapped[str] = mapped_column(String(64))
    matter: Mapped[str] = mapped_column(String(64))
    title: Mapped[str] = mapped_column(String(200))
    #: periodic | ad_hoc
    kind: Mapped[str] = mapped_column(String(16))
    note: Mapped[str | None] = mapped_column(Text)
    modes: Mapped[list[Any]] = mapped_column(JSONType, default=list)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("accounts.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class HouseholdCheck(Base):
    """One follow-up application (campaign check or the household's change report) of a household."""

    __tablename__ = "household_checks"
    __table_args__ = (Index("ix_household_checks", "household_id", "id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    household_id: Mapped[int] = mapped_column(ForeignKey("households.id"))
    application_id: Mapped[int] = mapped_column(ForeignKey("applications.id"), unique=True)
    campaign_id: Mapped[int | None] = mapped_column(ForeignKey("check_campaigns.id"))
    #: campaign | report
    trigger: Mapped[str] = mapped_column(String(16))
    #: the end result of the follow-up application once applied to the household
    outcome: Mapped[str | None] = mapped_column(String(32))
    applied_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class AccessRecord(Base):
    """Who saw which personal data of which application, when (append-only, like `events`)."""

    __tablename__ = "access_records"
    __table_args__ = (Index("ix_access_records_app", "application_id", "id"),)

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"))
    application_id: Mapped[int] = mapped_column(ForeignKey("applications.id"))
    #: full_id_number | household_register | …
    what: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


# --------------------------------------------------------------------------- outbox
# Appended with migration 0009: messages written in the same transaction as the change
# that concerns someone, delivered after commit by `formflow worker` (formflow.outbox).


class OutboxMessage(Base):
    """One thing to do after commit (an SMS, a webhook call, a notice to render…)."""

    __tablename__ = "outbox_messages"
    __table_args__ = (
        UniqueConstraint("key", name="uq_outbox_messages_key"),
        Index("ix_outbox_messages_due", "status", "available_at", "id"),
    )

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    #: the handler that delivers it: "sms", "webhook", "render_notice", …
    kind: Mapped[str] = mapped_column(String(64))
    #: idempotency key: enqueueing the same key twice is one message
    key: Mapped[str] = mapped_column(String(200))
    #: sealed like application data (may carry a mobile number or a name)
    payload: Mapped[dict[str, Any]] = mapped_column(SealedJSON)
    #: pending | done | dead
    status: Mapped[str] = mapped_column(String(16), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    available_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    done_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    last_error: Mapped[str | None] = mapped_column(Text)
    application_id: Mapped[int | None] = mapped_column(ForeignKey("applications.id"))
    pack: Mapped[str | None] = mapped_column(String(64))
    #: the claim of one worker's batch: its token and the end of its lease (claimed again after that)
    claimed_by: Mapped[str | None] = mapped_column(String(64))
    claimed_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


# --------------------------------------------------------------------------- calendar years
# Appended with migration 0016: a year of national holiday data imported at run time
# (`formflow calendar import`), which wins over seeds/calendar/<year>.yaml.


class CalendarYear(Base):
    """One year of the State Council's holiday arrangement, as imported."""

    __tablename__ = "calendar_years"

    year: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    #: the document in the seeds/calendar shape (year, source, holidays, workdays)
    document: Mapped[dict[str, Any]] = mapped_column(JSONType)
    source: Mapped[str] = mapped_column(Text)
    sha256: Mapped[str] = mapped_column(String(64))
    imported_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    imported_by: Mapped[str | None] = mapped_column(String(200))


# --------------------------------------------------------------------------- e-licence provenance
# Appended with migration 0017: where each prefilled value came from (which licence, which field, when).


class ElicenceValue(Base):
    """One value an e-licence put into an application: its field, licence and time, and a keyed digest of it."""

    __tablename__ = "elicence_values"
    __table_args__ = (UniqueConstraint("application_id", "field", name="uq_elicence_values_app_field"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("applications.id", ondelete="CASCADE"), index=True)
    #: the field's dotted name in the form (members.applicant.name)
    field: Mapped[str] = mapped_column(String(300))
    #: the licence (the form's x-source: idcard, hukou…)
    source: Mapped[str] = mapped_column(String(64))
    #: keyed hash of the value as fetched (never the value itself): a later change shows as a mismatch
    digest: Mapped[str] = mapped_column(String(64))
    fetched_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    fetched_by: Mapped[int | None] = mapped_column(ForeignKey("accounts.id"))
    provider: Mapped[str] = mapped_column(String(64))
# --------------------------------------------------------------------------- SMS sends and webhooks
# Appended with migration 0013: what the SMS handler sent (idempotency, per-number limits),
# partner systems' webhook subscriptions and the log of each delivery (formflow.webhooks).


class SmsSend(Base):
    """One SMS the provider took, by outbox key (sent once), for a number's keyed hash (rate limits)."""

    __tablename__ = "sms_sends"
    __table_args__ = (
        UniqueConstraint("key", name="uq_sms_sends_key"),
        Index("ix_sms_sends_mobile", "mobile_hash", "at"),
    )

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    key: Mapped[str] = mapped_column(String(200))
    mobile_hash: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str | None] = mapped_column(String(64))
    sender: Mapped[str] = mapped_column(String(32))
    #: the provider's id of the message (BizId, SerialNo)
    provider_id: Mapped[str | None] = mapped_column(String(100))
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class WebhookSubscription(Base):
    """A partner system's URL told of a pack's events of some kinds, signed with its own secret."""

    __tablename__ = "webhook_subscriptions"
    __table_args__ = (Index("ix_webhook_subscriptions_pack", "pack", "active"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    pack: Mapped[str] = mapped_column(String(64))
    #: event kinds (history actions, e.g. "submit", "approve"); ["*"] for all
    event_kinds: Mapped[list[Any]] = mapped_column(JSONType, default=list)
    url: Mapped[str] = mapped_column(String(500))
    #: the HMAC secret, sealed like personal data
    secret: Mapped[str] = mapped_column(SealedJSON)
    title: Mapped[str | None] = mapped_column(String(200))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("accounts.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class WebhookDelivery(Base):
    """One attempt to deliver a webhook message (its outbox key) to a subscription."""

    __tablename__ = "webhook_deliveries"
    __table_args__ = (Index("ix_webhook_deliveries_sub", "subscription_id", "id"),)

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    subscription_id: Mapped[int] = mapped_column(ForeignKey("webhook_subscriptions.id"))
    outbox_key: Mapped[str] = mapped_column(String(200))
    event: Mapped[str | None] = mapped_column(String(64))
    #: the receiver's HTTP status (None: no answer, e.g. a timeout)
    status_code: Mapped[int | None] = mapped_column(Integer)
    attempts: Mapped[int] = mapped_column(Integer, default=1)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    error: Mapped[str | None] = mapped_column(Text)
# --------------------------------------------------------------------------- sessions and security log
# Appended with migration 0014: web sessions known to the server (logout ends them), and the
# append-only security log read by the auditor (sign-ins, tokens, roles, passwords, exports).


class WebSession(Base):
    """One web sign-in: the cookie carries a random id, the server keeps its hash and whether it ended."""

    __tablename__ = "web_sessions"
    __table_args__ = (UniqueConstraint("sid_hash", name="uq_web_sessions_sid"),
                      Index("ix_web_sessions_account", "account_id", "ended_at"))

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    sid_hash: Mapped[str] = mapped_column(String(64))
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    ended_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    #: failed checks of the current password in this session (5 end it)
    password_failures: Mapped[int] = mapped_column(Integer, default=0)
    address: Mapped[str] = mapped_column(String(64), default="")


class SecurityEvent(Base):
    """One line of the security log (append-only: the database refuses UPDATE and DELETE)."""

    __tablename__ = "security_log"
    __table_args__ = (Index("ix_security_log_at", "at"),
                      Index("ix_security_log_kind_subject", "kind", "subject", "at"),
                      Index("ix_security_log_kind_address", "kind", "address", "at"))

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    #: sign_in | sign_in_failed | logout | lockout | token_issue | token_refresh | token_revoke |
    #: role_grant | role_revoke | password_change | password_check_failed | sms_code_sent | export | …
    kind: Mapped[str] = mapped_column(String(32))
    #: the account acting (None: unknown or anonymous)
    actor_id: Mapped[int | None] = mapped_column(Integer)
    #: the account name as given (for failed sign-ins of unknown names too)
    actor: Mapped[str] = mapped_column(String(100), default="")
    address: Mapped[str] = mapped_column(String(64), default="")
    #: what it concerns: another account, a keyed hash of a mobile number, an export's name
    subject: Mapped[str] = mapped_column(String(100), default="")
    detail: Mapped[str] = mapped_column(String(500), default="")
# --------------------------------------------------------------------------- messages
# Appended with migration 0011: the citizen's and reviewer's messages (My messages), written by
# `formflow.notifications` in the same flush as the change they tell of.


class Message(Base):
    """One message to one account: its title and body sealed, read or not."""

    __tablename__ = "messages"
    __table_args__ = (
        Index("ix_messages_inbox", "account_id", "read_at", "id"),
        UniqueConstraint("key", name="uq_messages_key"),
    )

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"))
    application_id: Mapped[int | None] = mapped_column(ForeignKey("applications.id"))
    pack: Mapped[str | None] = mapped_column(String(64))
    #: the message kind of the pack's messages.yaml (or "digest" for the reviewers' daily digest)
    kind: Mapped[str] = mapped_column(String(64))
    #: {"title": …, "body": …}, sealed: a message may carry a name or a reason
    content: Mapped[dict[str, Any]] = mapped_column(SealedJSON)
    #: a path inside the platform (the application's page), or none
    link: Mapped[str | None] = mapped_column(String(300))
    #: idempotency: what this message is about (the event, or the account and day of a digest)
    key: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    read_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


# --------------------------------------------------------------------------- queue order (0012)
# Appended with migration 0012: the queue sorts by (overdue first, earliest deadline, id);
# each projection row carries its application's overdue flag and deadline (`due`, 9999-12-31
# when there is none) so that a page reads its rows in the order of one index.

#: The deadline of an application without one: sorts last on every database.
NO_DEADLINE = date(9999, 12, 31)
ApplicationStage.overdue = mapped_column(Boolean, nullable=False, default=False, server_default=false())
ApplicationStage.due = mapped_column(Date, nullable=False, default=NO_DEADLINE, server_default="9999-12-31")
Index("ix_app_stage_order", ApplicationStage.__table__.c.pack, ApplicationStage.__table__.c.stage,
      ApplicationStage.__table__.c.overdue.desc(), ApplicationStage.__table__.c.due,
      ApplicationStage.__table__.c.application_id, ApplicationStage.__table__.c.office_path)


# --------------------------------------------------------------------------- configuration imports
# Appended with migration 0019: each configuration bundle imported into this environment (`formflow import`,
# the admin bundle page): who, when, the bundle's SHA-256, and what it changed.


class ConfigImport(Base):
    """One configuration bundle published into this environment (kept: a record, never changed)."""

    __tablename__ = "config_imports"
    __table_args__ = (Index("ix_config_imports_at", "at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    #: the account name (admin page) or `cli:<OS user>` / the `--by` value (command line)
    by: Mapped[str] = mapped_column(String(200))
    #: SHA-256 of the bundle file as uploaded
    sha256: Mapped[str] = mapped_column(String(64))
    #: the pack ids the bundle carries
    packs: Mapped[list[Any]] = mapped_column(JSONType, default=list)
    #: what changed: versions, parameters, offices, files, in-flight applications (importing.Plan.summary)
    summary: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
