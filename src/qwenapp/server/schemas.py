"""Request and response bodies of the native API (``/api``), as pydantic models.

They exist so ``/openapi.json`` describes the API exactly; handlers build
them from core dataclasses with the helpers in :mod:`.wire`.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field

__all__ = [
    "ApiKeyOut",
    "ArtifactOut",
    "ChatTurn",
    "ConversationCreate",
    "ConversationDetail",
    "ConversationList",
    "ConversationOut",
    "ConversationPatch",
    "DocumentList",
    "DocumentOut",
    "JobList",
    "JobOut",
    "KeyCreate",
    "LoginRequest",
    "MeOut",
    "MessageOut",
    "ModelInfo",
    "NewKeyOut",
    "PasswordChange",
    "UserOut",
]


class UserOut(BaseModel):
    id: str
    username: str
    is_admin: bool


class ModelInfo(BaseModel):
    name: str
    default: bool
    thinking: bool
    context_length: int


class MeOut(BaseModel):
    user: UserOut
    auth: Literal["none", "session", "api_key"]
    csrf_token: str | None = Field(description="Send back as X-CSRF-Token on writes made "
                                               "with the session cookie (or without login).")
    accounts: bool = Field(description="Whether this server has accounts (login required).")
    models: list[ModelInfo]
    deck_themes: list[str]
    web: bool = Field(description="Whether reports may read the web on this server.")
    upload_limit: int


class LoginRequest(BaseModel):
    username: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=1024)


class PasswordChange(BaseModel):
    current_password: str = Field(max_length=1024)
    new_password: str = Field(max_length=1024)


class KeyCreate(BaseModel):
    name: str = Field(default="key", max_length=80)


class ApiKeyOut(BaseModel):
    id: str
    name: str
    prefix: str
    created_at: str
    last_used_at: str | None


class NewKeyOut(ApiKeyOut):
    secret: str = Field(description="The key itself: shown once, stored only as a hash.")


class ConversationOut(BaseModel):
    id: str
    title: str | None
    model: str
    system_prompt: str | None
    created_at: str
    updated_at: str
    message_count: int
    snippet: str | None = None


class ConversationList(BaseModel):
    conversations: list[ConversationOut]


class ConversationCreate(BaseModel):
    title: str | None = Field(default=None, max_length=200)
    system_prompt: str | None = Field(default=None, max_length=20_000)
    model: str | None = None


class ConversationPatch(BaseModel):
    title: str = Field(min_length=1, max_length=200)


class MessageOut(BaseModel):
    id: str
    parent_id: str | None
    role: Literal["system", "user", "assistant"]
    content: str
    reasoning: str
    model: str | None
    status: str
    finish_reason: str | None
    prompt_tokens: int | None
    completion_tokens: int | None
    cached_tokens: int | None = Field(default=None,
                                      description="Prompt tokens served from the engine's cache.")
    created_at: str
    sources: list[dict[str, Any]] | None = Field(
        default=None, description="What the answer's [n] citations refer to (documents "
                                  "attached to its turn).")
    tool_steps: list[dict[str, Any]] | None = Field(
        default=None, description="The tools the answer called, in order: {id, name, "
                                  "arguments, status, content, error, seconds, job?}, or "
                                  "{notice}.")


class ChatTurn(BaseModel):
    content: str = Field(min_length=1, max_length=200_000)
    parent_id: str | None = Field(
        default=None, description="Answer after this message (edit and regenerate add a "
                                  "branch); omitted: after the latest message.")
    from_root: bool = Field(
        default=False, description="A new first message (edit the first question of a "
                                   "conversation without a root message); excludes parent_id.")
    model: str | None = None
    think: bool | None = None
    temperature: float | None = Field(default=None, ge=0, le=2)
    max_tokens: int | None = Field(default=None, ge=1, le=32_768)
    document_ids: list[str] = Field(default_factory=list, max_length=20,
                                    description="Your documents to answer from, with citations.")
    tools: list[str] | None = Field(
        default=None, max_length=64,
        description="The tools this turn may call, among those GET /api/tools lists; "
                    "omitted: all of them; []: none.")


class DocumentOut(BaseModel):
    id: str
    filename: str
    title: str
    kind: str
    size: int
    sections: int
    chunks: int
    added_at: str
    notes: list[str] = Field(default_factory=list,
                             description="On upload: what was left unread, and why (scanned "
                                         "pages with OCR switched off).")


class ReadingProgress(BaseModel):
    """How far the reader is with an upload: pages of a scan recognised (OCR) so far."""

    done: int
    total: int  # 0 until the reader knows (a file with a text layer stays at 0)


class DocumentList(BaseModel):
    documents: list[DocumentOut]


class ArtifactOut(BaseModel):
    name: str
    media_type: str
    size: int
    url: str


class JobOut(BaseModel):
    id: str
    kind: str
    status: Literal["queued", "running", "done", "failed", "cancelled"]
    title: str
    error: str | None
    request: dict[str, Any]
    result: dict[str, Any] | None = Field(default=None,
                                          description="The final 'result' event's data.")
    artifacts: list[ArtifactOut]
    created_at: str
    updated_at: str
    conversation_id: str | None = Field(default=None,
                                        description="The conversation it was started in.")
    after_message_id: str | None = Field(default=None,
                                         description="The message of it the job follows.")


class ClarifyRequest(BaseModel):
    kind: Literal["report", "deck"]
    text: str = Field(min_length=1, max_length=2000,
                      description="The research question, or the deck's topic.")
    model: str | None = None


class QuestionOut(BaseModel):
    question: str
    options: list[str] = Field(description="Suggested answers (the user may write their own).")


class ClarifyOut(BaseModel):
    questions: list[QuestionOut]
    language: str = Field(description="The language of the request: en or zh.")
    source: Literal["model", "default"] = Field(
        description="default: the model could not help; these are fixed questions.")


class JobList(BaseModel):
    jobs: list[JobOut]


class ConversationDetail(BaseModel):
    conversation: ConversationOut
    messages: list[MessageOut] = Field(description="Every message, branches included, oldest "
                                                   "first; parent_id links them into a tree.")
    thread: list[str] = Field(description="Ids from the root to the latest message.")
    jobs: list[JobOut] = Field(default_factory=list,
                               description="Reports and decks started in it, oldest first; "
                                           "each follows its after_message_id.")
