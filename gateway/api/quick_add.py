"""Quick add: one line of text to a task. `parseQuickAdd` shows what svc_recur read out of the
line (each field and the words that gave it, to highlight as the user types); `quickAddTask`
creates that task through svc_tasks exactly as `createTask` would."""

from __future__ import annotations

from datetime import datetime
from enum import Enum
from typing import Annotated

import strawberry

from gateway.api.payloads import MutationInput, Payload, answered
from gateway.api.tasks.enums import PRIORITY_FROM_PB, Priority
from gateway.api.tasks.types import Recurrence, Task
from gateway.arguments import given
from gateway.context import GatewayContext, Info
from gateway.errors import GatewayError, Problem, bad_input, code_of
from todo_contracts.recur.v1 import recurrence_service_pb2 as recur_pb
from todo_contracts.tasks.v1 import tasks_service_pb2
from todo_runtime.timestamps import from_timestamp


@strawberry.enum(description="The task field some words of a quick-add line became.")
class QuickAddField(Enum):
    TITLE = "TITLE"
    DUE = "DUE"
    RECURRENCE = "RECURRENCE"
    TAG = "TAG"
    PRIORITY = "PRIORITY"
    REMINDER = "REMINDER"


# Input fields a refusal may name as they are; anything else came from the line.
_OWN_FIELDS = (("input", "requestId"), ("input", "timeZone"))
_FIELDS = {
    recur_pb.QuickAddField.Value(f"QUICK_ADD_FIELD_{field.name}"): field for field in QuickAddField
}


@strawberry.type(description="Some words of the line and the field they became.")
class QuickAddSpan:
    start: int = strawberry.field(
        description="Offset of the first character in the line, in Unicode code points "
        "(JavaScript: index into `Array.from(text)`, not into the UTF-16 string)."
    )
    end: int = strawberry.field(description="Offset just after the last character (code points).")
    text: str = strawberry.field(description="The words themselves.")
    field: QuickAddField = strawberry.field(description="What they became.")


@strawberry.type(description="A quick-add line read as a task, before it is created.")
class QuickAddPreview:
    title: str = strawberry.field(
        description="The words no other field took; empty when none are left (quickAddTask "
        "refuses such a line)."
    )
    due_at: datetime | None = strawberry.field(
        description="The due time; with a recurrence, the series' first due."
    )
    time_zone: str = strawberry.field(description="The zone the line was read in.")
    recurrence: Recurrence | None = strawberry.field(
        description="The rule as the task would store it; null when the line has none."
    )
    tags: list[str] = strawberry.field(description="From `#tag` words, in order, de-duplicated.")
    priority: Priority = strawberry.field(
        description="From `!high`, `p1`..`p4` (p1 = URGENT); NONE when the line names none."
    )
    remind_minutes_before: list[int] = strawberry.field(
        description="From 'remind 30 min before', 'remind 1 day before'."
    )
    remind_at: list[datetime] = strawberry.field(
        description="From 'remind at 8am' (on the due's day), 'remind tomorrow at 8am'."
    )
    spans: list[QuickAddSpan] = strawberry.field(
        description="Every word of the line in exactly one span, in order; whitespace between "
        "spans belongs to none."
    )

    @classmethod
    def from_pb(cls, text: str, response: recur_pb.ParseQuickAddResponse) -> QuickAddPreview:
        task = response.task
        points = list(text)  # spans count code points
        return cls(
            title=task.title,
            due_at=from_timestamp(task.due_time) if task.HasField("due_time") else None,
            time_zone=task.time_zone,
            recurrence=Recurrence.from_pb(response.recurrence)
            if response.HasField("recurrence")
            else None,
            tags=list(task.tags),
            priority=PRIORITY_FROM_PB[task.priority],
            remind_minutes_before=[
                r.minutes_before for r in task.reminders if r.WhichOneof("when") == "minutes_before"
            ],
            remind_at=[
                from_timestamp(r.remind_time)
                for r in task.reminders
                if r.WhichOneof("when") == "remind_time"
            ],
            spans=[
                QuickAddSpan(
                    start=span.start,
                    end=span.end,
                    text="".join(points[span.start : span.end]),
                    field=_FIELDS[span.field],
                )
                for span in response.spans
            ],
        )


async def _parsed(
    context: GatewayContext, text: str, time_zone: str
) -> tuple[recur_pb.ParseQuickAddResponse, QuickAddPreview]:
    request = recur_pb.ParseQuickAddRequest(text=text, time_zone=time_zone)
    response = await context.call(context.recur.ParseQuickAdd, request)
    return response, QuickAddPreview.from_pb(text, response)


async def parse_quick_add(
    info: Info,
    text: Annotated[
        str,
        strawberry.argument(
            description="One line, e.g. 'Pay rent every month on the 1st at 9am #home !high "
            "remind 1 day before'; up to 1000 characters."
        ),
    ],
    time_zone: Annotated[
        str, strawberry.argument(description="IANA zone dates and times are read in.")
    ],
) -> QuickAddPreview:
    return (await _parsed(info.context, text, time_zone))[1]


@strawberry.input(description="A line of text that becomes a whole task.")
class QuickAddTaskInput(MutationInput):
    text: str = strawberry.field(description="The line, as for parseQuickAdd.")
    time_zone: str = strawberry.field(
        description="IANA zone dates and times are read in; the task's zone."
    )
    request_id: str | None = strawberry.field(
        default=strawberry.UNSET,
        description="Idempotency key, as createTask's: a retry with the same key returns the "
        "task the first call created.",
    )


@strawberry.type(description="What `quickAddTask` answers.")
class QuickAddTaskPayload(Payload):
    task: Task | None = strawberry.field(
        default=None, description="The new task; null when it was refused."
    )
    parsed: QuickAddPreview | None = strawberry.field(
        default=None,
        description="How the line was read; also set when the task was refused for what the "
        "line says (e.g. nothing left for a title), null when the line could not be read.",
    )


def _on_text(error: GatewayError) -> GatewayError:
    """svc_tasks' refusal of a field the line gave, bound to `text` (the input has no `title`
    or `tags`), its message naming the field."""
    return GatewayError(
        str(code_of(error)),
        error.message,
        field="text",
        problems=[_moved(p) for p in error.problems],
    )


def _moved(problem: Problem) -> Problem:
    if problem.field is None or problem.field in _OWN_FIELDS:
        return problem
    named = ".".join(problem.field[1:])
    return Problem(problem.code, ("input", "text"), f"{named}: {problem.message}")


async def quick_add_task(
    info: Info, input: Annotated[QuickAddTaskInput, strawberry.argument(description="The line.")]
) -> QuickAddTaskPayload | None:
    context = info.context
    parsed: QuickAddPreview | None = None

    async def perform() -> QuickAddTaskPayload:
        nonlocal parsed
        response, parsed = await _parsed(context, input.text, input.time_zone)
        if not parsed.title.strip():
            raise bad_input(
                "input.text",
                "nothing is left for the title once the date, tags and other fields are taken",
            )
        request = tasks_service_pb2.CreateTaskRequest(task=response.task)
        if given(input.request_id):
            request.request_id = input.request_id
        try:
            created = await context.call(context.tasks.CreateTask, request)
        except GatewayError as error:
            raise _on_text(error) if error.problems else error from None
        return QuickAddTaskPayload(task=Task.from_pb(created.task), parsed=parsed)

    payload = await answered(input, QuickAddTaskPayload, perform)
    payload.parsed = parsed
    return payload


@strawberry.type
class QuickAddQueries:
    parse_quick_add: QuickAddPreview = strawberry.field(
        resolver=parse_quick_add,
        description="Reads one line as a task without creating it: title, due, recurrence, "
        "tags, priority and reminders, and which words became which (`spans`), to highlight "
        "as the user types. Unknown words stay in the title. English.",
    )


@strawberry.type
class QuickAddMutations:
    quick_add_task: QuickAddTaskPayload | None = strawberry.mutation(
        resolver=quick_add_task,
        description="Creates the task parseQuickAdd reads out of the line, exactly as createTask "
        "would (same checks, same userErrors, bound to `text` for what the line says).",
    )
