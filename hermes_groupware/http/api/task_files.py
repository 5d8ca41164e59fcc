"""``/tasks/{task_id}/files``: the files of a task; attach one, list them, download one.

Attaching goes through :func:`items.add_file`, as the e-mail gateway's attachments do: the
caller must be able to change the task, the name is made safe there (no path parts, no
control or bidi characters), and the store stops at ``[files] max_file_bytes``. Reading
needs only that the caller may see the task; a hidden task's files are 404 like the task.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from hermes_groupware.http.api.fields import Text
from hermes_groupware.http.api.paging import Page
from hermes_groupware.http.api.registry import ID_PARAM, Api, Call, Download, Operation
from hermes_groupware.http.api.task_models import ItemOut
from hermes_groupware.http.api.uploads import media_type
from hermes_groupware.services import items, task_views


class UploadQuery(BaseModel):
    """The file's name when it is the raw body."""

    model_config = ConfigDict(extra="forbid")

    filename: Annotated[Text, Field(min_length=1, max_length=255)] | None = Field(
        None, description="required with a raw body; a form part's own name is the default"
    )


FileList = Page[ItemOut]


def register(api: Api) -> None:
    """Add the file operations."""
    tag = "tasks"
    task = {"task_id": ID_PARAM}
    one = {"task_id": ID_PARAM, "item_id": ID_PARAM}
    api.add(Operation("GET", "/tasks/{task_id}/files", list_files, "The files of a task", tag,
                      response=FileList, params=task))
    api.add(Operation("POST", "/tasks/{task_id}/files", attach_file, "Attach a file", tag,
                      scope="write", query=UploadQuery, upload=True, response=ItemOut,
                      status=201, params=task))
    api.add(Operation("GET", "/tasks/{task_id}/files/{item_id}", download_file,
                      "Download a file", tag, produces="application/octet-stream",
                      params=one))  # fmt: skip


def list_files(call: Call, task_id: int) -> FileList:
    """Oldest first, as attached."""
    with call.uow() as uow:
        files = task_views.task_detail(uow, task_id).files
    return FileList(items=[ItemOut.model_validate(f) for f in files], next=None)


def attach_file(call: Call, task_id: int) -> ItemOut:
    """The new file item (an identical file already on the task is attached again)."""
    upload = call.upload
    if upload is None:
        raise TypeError("attach_file is an upload operation")
    with call.uow(write=True) as uow:
        item = items.add_file(
            uow,
            task_id,
            filename=upload.filename,
            content_type=upload.content_type,
            chunks=upload.chunks,
        )
        files = task_views.task_detail(uow, task_id).files
        return ItemOut.model_validate(next(f for f in files if f.id == item.id))


def download_file(call: Call, task_id: int, item_id: int) -> Download:
    """As attached, always as an attachment (never shown inline by a browser)."""
    with call.uow() as uow:
        content = items.file_content(uow, task_id, item_id)
    return Download(content.data, media_type(content.content_type), content.filename)
