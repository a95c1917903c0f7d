"""The API's fixed shapes as marshmallow schemas: requests are loaded, responses dumped, OpenAPI generated.

Configurable content (the form, the materials catalogue, a review table and
its marking schema) is carried as the pack's own JSON documents inside
free-form `object` fields, never re-described here.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from marshmallow import RAISE, Schema, ValidationError, fields, validate, validates_schema

from formflow.text.catalogue import lazy

SLUG = validate.Length(min=1, max=64)
NOTE_MAX = 2000


class Instant(fields.DateTime):
    """A moment in the deployment zone, ISO 8601 with its offset (`formatting.iso`: `…T15:28:00+08:00`)."""

    def _serialize(self, value: Any, attr: Any, obj: Any, **kwargs: Any) -> Any:
        if isinstance(value, datetime):
            from formflow.text.formatting import iso

            return iso(value)
        return super()._serialize(value, attr, obj, **kwargs)


class Base(Schema):
    class Meta:
        unknown = RAISE
        ordered = True


# --------------------------------------------------------------------------- errors


class FieldErrorSchema(Base):
    pointer = fields.String(required=True,
                            metadata={"description": lazy(
        "RFC 6901 JSON pointer (into the request body or the form data)")})
    message = fields.String(required=True, metadata={"description": lazy("Explanation for a person")})


class StageRefSchema(Base):
    id = fields.String(required=True)
    title = fields.String(required=True)


class CurrentStateSchema(Base):
    application_id = fields.Integer(required=True)
    version = fields.Integer(required=True)
    status = fields.String(required=True)
    stages = fields.List(fields.Nested(StageRefSchema), required=True)
    result = fields.String(allow_none=True, required=True)


class ErrorBodySchema(Base):
    code = fields.String(required=True, metadata={"description": lazy("Stable English error code")})
    message = fields.String(required=True, metadata={"description": lazy("Error explanation for a person")})
    fields_ = fields.List(fields.Nested(FieldErrorSchema), required=True, data_key="fields")
    current = fields.Nested(CurrentStateSchema,
                            metadata={"description": lazy("409 stale: the application's current state")})
    details = fields.Dict(metadata={"description": lazy(
        "What the refusal is about (the action, stage, file or item it names), for programs")})


class ErrorSchema(Base):
    error = fields.Nested(ErrorBodySchema, required=True)


# --------------------------------------------------------------------------- tokens and account


#: POST /tokens: each grant type and the fields it needs (`password` is also the staff's second factor).
GRANT_FIELDS = {
    "password": ("username", "password"),
    "authorization_code": ("provider", "code", "redirect_uri"),
    "id_token": ("provider", "id_token"),
    "sms": ("mobile", "code"),
}


class TokenRequestSchema(Base):
    grant_type = fields.String(load_default="password", validate=validate.OneOf(list(GRANT_FIELDS)),
                               metadata={"description": lazy(
        "How to sign in: password (username, password; the default), authorization_code (provider, code, "
        "redirect_uri: a code from the identity service), id_token (provider, id_token), sms (mobile, code)")})
    username = fields.String(validate=validate.Length(min=1, max=64))
    password = fields.String(validate=validate.Length(min=1, max=256), metadata={"description": lazy(
        "The account's password; with the sms and identity grants, staff accounts give it as well")})
    provider = fields.String(validate=SLUG, metadata={"description": lazy(
        "The identity provider's id (FORMFLOW_IDENTITY_PROVIDERS), e.g. oidc")})
    code = fields.String(validate=validate.Length(min=1, max=2048), metadata={"description": lazy(
        "The authorisation code from the identity service, or the SMS code")})
    redirect_uri = fields.String(validate=validate.Length(min=1, max=2000), metadata={"description": lazy(
        "The redirect_uri the code was issued for")})
    code_verifier = fields.String(validate=validate.Length(min=43, max=128), metadata={"description": lazy(
        "PKCE: the verifier of the code_challenge sent when asking for the code")})
    nonce = fields.String(validate=validate.Length(min=1, max=255), metadata={"description": lazy(
        "The nonce sent when asking for the code or id_token; the id_token must carry it")})
    id_token = fields.String(validate=validate.Length(min=1, max=16000), metadata={"description": lazy(
        "An id_token the client received from the identity service")})
    mobile = fields.String(validate=validate.Length(min=1, max=20), metadata={"description": lazy(
        "The mobile number the SMS code was sent to")})

    @validates_schema(pass_original=True, skip_on_field_errors=False)
    def _grant_fields(self, data: dict[str, Any], original: Any, **_kwargs: Any) -> None:
        """The fields the grant type needs (a field given but invalid is named by its own check)."""
        given = original if isinstance(original, dict) else {}
        needed = GRANT_FIELDS.get(data.get("grant_type") or "password", ())
        missing = {name: ["Missing data for required field."] for name in needed if name not in given}
        if missing:
            raise ValidationError(missing)


class SmsCodeRequestSchema(Base):
    mobile = fields.String(required=True, validate=validate.Length(min=1, max=20),
                           metadata={"pattern": "^1[3-9][0-9]{9}$",
                                     "description": lazy("Mainland mobile number (11 digits)")})


class SmsCodeSentSchema(Base):
    mobile_masked = fields.String(required=True)
    expires_in = fields.Integer(required=True, metadata={"description": lazy("Seconds the code is valid (300)")})
    resend_after = fields.Integer(required=True,
                                  metadata={"description": lazy("Seconds before another code may be asked for")})


class RefreshRequestSchema(Base):
    refresh_token = fields.String(required=True, validate=validate.Length(min=1, max=200))


class TokenPairSchema(Base):
    access_token = fields.String(required=True)
    token_type = fields.String(required=True, metadata={"enum": ["Bearer"]})
    expires_in = fields.Integer(required=True,
                                metadata={"description": lazy("Seconds the access token is valid (900)")})
    refresh_token = fields.String(required=True)
    refresh_expires_in = fields.Integer(required=True)


class RoleSchema(Base):
    role = fields.String(required=True)
    title = fields.String(required=True)
    office_id = fields.String(allow_none=True, required=True)
    office_name = fields.String(allow_none=True, required=True)


class AccountSchema(Base):
    id = fields.Integer(required=True)
    username = fields.String(required=True)
    display_name = fields.String(required=True)
    roles = fields.List(fields.Nested(RoleSchema), required=True)
    identity_bound = fields.Boolean(required=True, metadata={"description": lazy("Identity verified (may apply)")})
    id_number_masked = fields.String(allow_none=True, required=True)


class IdentityRequestSchema(Base):
    name = fields.String(required=True, validate=validate.Length(min=1, max=50))
    id_number = fields.String(required=True, validate=validate.Length(min=1, max=18))
    consent = fields.Boolean(required=True,
                             metadata={"description": lazy("Consent to verifying the identity with these details")})


# --------------------------------------------------------------------------- matters


class ChannelSchema(Base):
    id = fields.String(required=True)
    title = fields.String(required=True)
    assisted = fields.Boolean(required=True)


class DocumentRefSchema(Base):
    id = fields.String(required=True)
    title = fields.String(required=True)


class PrivacySchema(Base):
    version = fields.String(required=True)
    title = fields.String(required=True)
    text = fields.String(required=True)


class MatterSchema(Base):
    pack = fields.String(required=True)
    pack_name = fields.String(required=True)
    matter = fields.String(required=True)
    title = fields.String(required=True)
    kind = fields.String(required=True)
    region_code = fields.String(allow_none=True, required=True)


class MatterListSchema(Base):
    items = fields.List(fields.Nested(MatterSchema), required=True)


class ProcessStageSchema(Base):
    id = fields.String(required=True)
    title = fields.String(required=True)
    time_limit = fields.String(allow_none=True, required=True,
                               metadata={"description": lazy("For example “3 working days”")})
    owner = fields.String(allow_none=True, required=True, metadata={"description": lazy("Role that handles it")})


class CommitmentSchema(Base):
    title = fields.String(required=True)
    days = fields.Integer(required=True)
    unit = fields.String(required=True, metadata={"enum": ["working", "calendar"]})


class CitizenActionSchema(Base):
    id = fields.String(required=True)
    title = fields.String(required=True)


class WorkflowSummarySchema(Base):
    version = fields.String(required=True, metadata={"description": lazy("Content hash of the workflow configuration")})
    title = fields.String(required=True)
    commitment = fields.Nested(CommitmentSchema, allow_none=True, required=True)
    stages = fields.List(fields.Nested(ProcessStageSchema), required=True)
    citizen_actions = fields.List(fields.Nested(CitizenActionSchema), required=True)


class MatterDetailSchema(MatterSchema):
    guide = fields.String(required=True)
    fee = fields.String(allow_none=True, required=True)
    privacy = fields.Nested(PrivacySchema, allow_none=True, required=True)
    channels = fields.List(fields.Nested(ChannelSchema), required=True)
    documents = fields.List(fields.Nested(DocumentRefSchema), required=True)
    form_version = fields.String(required=True)
    workflow = fields.Nested(WorkflowSummarySchema, required=True)


class LocalitySchema(Base):
    id = fields.String(required=True)
    name = fields.String(required=True)
    kind = fields.String(required=True)
    parent_name = fields.String(allow_none=True, required=True)
    region_code = fields.String(allow_none=True, required=True)


class LocalityListSchema(Base):
    items = fields.List(fields.Nested(LocalitySchema), required=True)


class StepSchema(Base):
    id = fields.String(required=True)
    title = fields.String(required=True)
    description = fields.String(required=True)


class FormBundleSchema(Base):
    version = fields.String(required=True,
                            metadata={"description": lazy(
        "Content hash of the form (with the common definitions it refers to)")})
    uri = fields.String(required=True, metadata={"description": lazy("The form's base URI ($ref resolves against it)")})
    form = fields.Dict(required=True,
                       metadata={"description": lazy(
        "The form's JSON Schema (draft 2020-12), the same the portal renders")})
    common = fields.Dict(required=True,
                         metadata={"description": lazy(
        "Common definitions the form refers to: URI → JSON Schema document")})
    steps = fields.List(fields.Nested(StepSchema), required=True)


class MaterialsCatalogueSchema(Base):
    version = fields.String(required=True)
    upload_path = fields.String(allow_none=True, required=True)
    kinds = fields.Dict(required=True,
                        metadata={"description": lazy("Materials catalogue (the kinds of materials.yaml)")})
    categories = fields.Dict(required=True,
                             metadata={"description": lazy(
        "Material list of each applicant category (the categories of materials.yaml)")})


class ChecklistItemSchema(Base):
    kind = fields.String(required=True)
    title = fields.String(required=True)
    requirement = fields.String(required=True)
    originals = fields.Integer(required=True)
    copies = fields.Integer(required=True)
    medium = fields.String(required=True)
    source = fields.String(allow_none=True, required=True)
    signature = fields.Boolean(required=True)
    required = fields.Boolean(required=True)
    field = fields.String(required=True,
                          metadata={"description": lazy("Where the material is in the form data (dotted path)")})
    pointer = fields.String(required=True)
    provided = fields.Boolean(required=True)


class ChecklistSchema(Base):
    category = fields.String(allow_none=True, required=True)
    items = fields.List(fields.Nested(ChecklistItemSchema), required=True)


# --------------------------------------------------------------------------- consent


class ConsentRequestSchema(Base):
    accepted = fields.Boolean(required=True)
    agreement_version = fields.String(validate=validate.Length(min=1, max=32),
                                      metadata={"description": lazy(
        "Version of the agreement consented to (must be the current one)")})


class ConsentSchema(Base):
    pack = fields.String(required=True)
    matter = fields.String(required=True)
    agreement_version = fields.String(required=True)
    accepted = fields.Boolean(required=True)
    at = Instant(allow_none=True, required=True)


# --------------------------------------------------------------------------- applications


class DraftCreateSchema(Base):
    pack = fields.String(required=True, validate=SLUG)
    matter = fields.String(required=True, validate=SLUG)
    office_id = fields.String(required=True, validate=SLUG,
                              metadata={"description": lazy("Region applied in (see localities)")})
    channel = fields.String(validate=SLUG)


class DataReplaceSchema(Base):
    version = fields.Integer(required=True, strict=True,
                             metadata={"description": lazy("The draft's current version (optimistic concurrency)")})
    data = fields.Dict(required=True, metadata={"description": lazy("The whole form data")})
    current_step = fields.String(validate=SLUG)


class StepPatchSchema(Base):
    version = fields.Integer(required=True, strict=True)
    data = fields.Dict(required=True,
                       metadata={"description": lazy("This step's data (replaces the step's stored data)")})


class StepValidateSchema(Base):
    data = fields.Dict(metadata={"description": lazy(
        "This step's data (not saved); when left out, the saved draft is checked")})


class StepValidationSchema(Base):
    step = fields.String(required=True)
    valid = fields.Boolean(required=True)
    errors = fields.List(fields.Nested(FieldErrorSchema), required=True)


class VersionSchema(Base):
    version = fields.Integer(required=True, strict=True)


class CorrectionAnswerSchema(Base):
    version = fields.Integer(required=True, strict=True)
    note = fields.String(validate=validate.Length(max=NOTE_MAX))


class WithdrawSchema(Base):
    version = fields.Integer(allow_none=True, strict=True)
    reason = fields.String(validate=validate.Length(max=500))


class FileSchema(Base):
    sha256 = fields.String(required=True)
    name = fields.String(required=True)
    media_type = fields.String(required=True)
    size = fields.Integer(required=True)


class AttachedFileSchema(Base):
    id = fields.Integer(required=True)
    material = fields.String(required=True)
    sha256 = fields.String(required=True)
    name = fields.String(required=True)
    uploaded_at = Instant(allow_none=True, required=True)
    replaced = fields.Boolean(required=True)


class UploadFormSchema(Base):
    field = fields.String(required=True, validate=validate.Length(min=1, max=200),
                          metadata={"description": lazy(
        "Where the file list is in the form data (dotted path, e.g. materials.id_card)")})
    version = fields.Integer(required=True)
    replace = fields.Boolean(load_default=False)


class UploadResultSchema(Base):
    field = fields.String(required=True)
    file = fields.Nested(FileSchema, required=True)
    version = fields.Integer(required=True)


class EventSchema(Base):
    id = fields.Integer(required=True)
    at = Instant(allow_none=True, required=True)
    action = fields.String(required=True)
    title = fields.String(required=True)
    actor = fields.String(required=True, metadata={"description": lazy("The applicant, a handling role or “System”")})
    stage = fields.String(allow_none=True, required=True)
    to_stage = fields.String(allow_none=True, required=True)
    note = fields.String(allow_none=True, required=True)


class NoticeSchema(Base):
    id = fields.Integer(required=True)
    kind = fields.String(required=True)
    title = fields.String(required=True)
    number = fields.String(required=True)
    issued_at = Instant(allow_none=True, required=True)
    url = fields.String(required=True, metadata={"description": lazy("PDF download address")})
    ready = fields.Boolean(required=True, metadata={"description": lazy(
        "The PDF exists; false while it is being generated (the download answers 409 with Retry-After)")})


class CorrectionItemSchema(Base):
    kind = fields.String(required=True)
    title = fields.String(required=True)
    requirement = fields.String(required=True)
    field = fields.String(allow_none=True, required=True)


class CorrectionSchema(Base):
    id = fields.Integer(required=True)
    stage = fields.String(required=True)
    note = fields.String(allow_none=True, required=True)
    missing = fields.List(fields.Nested(CorrectionItemSchema), required=True)
    requested_on = fields.Date(allow_none=True, required=True)
    answered_on = fields.Date(allow_none=True, required=True)


class OfficeRefSchema(Base):
    id = fields.String(required=True)
    name = fields.String(required=True)


class ApplicationSummarySchema(Base):
    id = fields.Integer(required=True)
    number = fields.String(allow_none=True, required=True)
    pack = fields.String(required=True)
    matter = fields.String(required=True)
    matter_title = fields.String(required=True)
    status = fields.String(required=True, metadata={"enum": ["draft", "active", "closed"]})
    status_title = fields.String(required=True, metadata={"description": lazy("The status in words (as every channel "
                                                                              "words it)")})
    result = fields.String(allow_none=True, required=True)
    result_title = fields.String(allow_none=True, required=True,
                                 metadata={"description": lazy("The result in words (the workflow's own, else the "
                                                               "platform's)")})
    version = fields.Integer(required=True)
    stages = fields.List(fields.Nested(StageRefSchema), required=True)
    current_step = fields.String(allow_none=True, required=True)
    category = fields.String(allow_none=True, required=True)
    channel = fields.String(allow_none=True, required=True)
    awaiting = fields.String(allow_none=True, required=True,
                             metadata={"description": lazy("“citizen”: waiting for the applicant's correction")})
    submitted_at = Instant(allow_none=True, required=True)
    deadline = fields.Date(allow_none=True, required=True)
    created_at = Instant(allow_none=True, required=True)
    updated_at = Instant(allow_none=True, required=True)


class ApplicationListSchema(Base):
    items = fields.List(fields.Nested(ApplicationSummarySchema), required=True)


class ApplicationSchema(ApplicationSummarySchema):
    office = fields.Nested(OfficeRefSchema, allow_none=True, required=True)
    data = fields.Dict(required=True, metadata={"description": lazy("Form data (under the pinned form version)")})
    versions = fields.Dict(required=True,
                           metadata={"description": lazy(
        "Configuration versions the application pinned (content hashes)")})
    timeline = fields.List(fields.Nested(EventSchema), required=True)
    notices = fields.List(fields.Nested(NoticeSchema), required=True)
    corrections = fields.List(fields.Nested(CorrectionSchema), required=True,
                              metadata={"description": lazy("Correction request awaiting an answer")})
    files = fields.List(fields.Nested(AttachedFileSchema), required=True)
    withdrawable = fields.Boolean(required=True)


class SubmitResultSchema(ApplicationSchema):
    pass


# --------------------------------------------------------------------------- reviewers


class QueueQuerySchema(Base):
    stage = fields.String(validate=SLUG)
    category = fields.String(validate=SLUG)
    channel = fields.String(validate=SLUG)
    overdue = fields.Boolean()
    after = fields.String(validate=validate.Length(min=1, max=200),
                          metadata={"description": lazy("The next_cursor of the previous page")})
    limit = fields.Integer(validate=validate.Range(min=1, max=100))


class QueueItemSchema(Base):
    id = fields.Integer(required=True)
    number = fields.String(allow_none=True, required=True)
    pack = fields.String(required=True)
    matter = fields.String(required=True)
    applicant = fields.String(required=True)
    id_number_masked = fields.String(required=True)
    category = fields.String(allow_none=True, required=True)
    category_title = fields.String(required=True)
    channel = fields.String(allow_none=True, required=True)
    channel_title = fields.String(required=True)
    stages = fields.List(fields.Nested(StageRefSchema), required=True)
    office = fields.Nested(OfficeRefSchema, allow_none=True, required=True)
    submitted_at = Instant(allow_none=True, required=True)
    deadline = fields.Date(allow_none=True, required=True)
    overdue = fields.Boolean(required=True)
    version = fields.Integer(required=True)


class QueuePageSchema(Base):
    items = fields.List(fields.Nested(QueueItemSchema), required=True)
    next_cursor = fields.String(allow_none=True, required=True)


class ApplicantSchema(Base):
    name = fields.String(required=True)
    id_number_masked = fields.String(required=True)


class ReviewApplicationSchema(ApplicationSummarySchema):
    applicant = fields.Nested(ApplicantSchema, required=True)
    office = fields.Nested(OfficeRefSchema, allow_none=True, required=True)
    overdue = fields.Boolean(required=True)
    data = fields.Dict(required=True)
    versions = fields.Dict(required=True)
    history = fields.List(fields.Nested(EventSchema), required=True)
    notices = fields.List(fields.Nested(NoticeSchema), required=True)
    files = fields.List(fields.Nested(AttachedFileSchema), required=True)
    my_stages = fields.List(fields.Nested(StageRefSchema), required=True,
                            metadata={"description": lazy("Current stages this account handles")})


class MarkingViewSchema(Base):
    stage = fields.String(required=True)
    table_id = fields.String(required=True)
    table_version = fields.String(required=True)
    table = fields.Dict(required=True, metadata={"description": lazy("Review table (as configured)")})
    schema = fields.Dict(required=True, metadata={"description": lazy("JSON Schema of the review marking")})
    marking = fields.Dict(allow_none=True, required=True)
    outcome = fields.String(allow_none=True, required=True, metadata={"enum": ["pass", "fail", None]})
    form = fields.Dict(allow_none=True, load_default=None, metadata={"description": lazy(
        "JSON Schema of the stage's reviewer-entered fields (sent as marking.form), or null")})


class MarkingRequestSchema(Base):
    marking = fields.Dict(required=True, metadata={
        "description": '{"rows": {"1": {"criteria": ["pass", "na"], "note": "…"}}, "note": "…", '
                       '"form": {"verified_income": 1200}}  (form: the stage form\'s fields, when it has one)'})


class MarkingResultSchema(Base):
    stage = fields.String(required=True)
    table_id = fields.String(required=True)
    outcome = fields.String(required=True, metadata={"enum": ["pass", "fail"]})
    failed_rows = fields.List(fields.String(), required=True)
    form = fields.Dict(allow_none=True, load_default=None, metadata={
        "description": lazy("The stage form's values as stored (null when the stage has no form)")})


class StageValuesSchema(Base):
    stage = fields.String(required=True)
    stage_title = fields.String(required=True)
    values = fields.Dict(required=True, metadata={"description": lazy("Field → value, as entered")})
    shown = fields.List(fields.Dict(), required=True, metadata={
        "description": lazy("Field titles and formatted values ({title, text})")})


class AvailableActionSchema(Base):
    stage = fields.String(required=True)
    stage_title = fields.String(required=True)
    action = fields.String(required=True)
    title = fields.String(required=True)
    allowed = fields.Boolean(required=True)
    why_not = fields.String(allow_none=True, required=True)
    reason_required = fields.Boolean(required=True)
    correction = fields.Boolean(required=True)
    targets = fields.List(fields.String(), required=True)


class ActionListSchema(Base):
    version = fields.Integer(required=True)
    actions = fields.List(fields.Nested(AvailableActionSchema), required=True)


class ActionRequestSchema(Base):
    stage = fields.String(required=True, validate=SLUG)
    action = fields.String(required=True, validate=SLUG)
    version = fields.Integer(required=True, strict=True,
                             metadata={"description": lazy("The application's current version; 409 when stale")})
    note = fields.String(validate=validate.Length(max=NOTE_MAX),
                         metadata={"description": lazy("Reason (required by some actions)")})
    materials = fields.List(fields.String(validate=SLUG), validate=validate.Length(max=50),
                            metadata={"description": lazy("Materials the correction request lists")})


class IssuedNoticeSchema(Base):
    id = fields.Integer(required=True)
    kind = fields.String(required=True)
    title = fields.String(required=True)
    number = fields.String(required=True)
    url = fields.String(required=True)
    ready = fields.Boolean(required=True, metadata={"description": lazy(
        "The PDF exists; false while it is being generated (the download answers 409 with Retry-After)")})


class TransitionSchema(Base):
    application_id = fields.Integer(required=True)
    version = fields.Integer(required=True)
    status = fields.String(required=True)
    stages = fields.List(fields.Nested(StageRefSchema), required=True)
    result = fields.String(allow_none=True, required=True)
    awaiting = fields.String(allow_none=True, required=True)
    deadline = fields.Date(allow_none=True, required=True)
    event_id = fields.Integer(required=True)
    notices = fields.List(fields.Nested(IssuedNoticeSchema), required=True)
