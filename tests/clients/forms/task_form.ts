// A create-task form's handling of the createTask payload, typed by graphql-codegen's output
// (codegen.yml writes it to ../__generated__). The tests type-check it with tsc --strict next to
// freshly generated types: a change to UserError, UserErrorCode, CreateTaskInput or the payload
// that a form like this one would trip over fails there first.
import type {
  CreateTaskInput,
  TaskListCreateMutation,
  TaskListCreateMutationVariables,
  UserErrorCode,
} from '../__generated__/operations';
import type { UserError } from '../__generated__/schema';

export type CreateTaskPayload = NonNullable<TaskListCreateMutation['createTask']>;
export type CreatedTask = NonNullable<CreateTaskPayload['task']>;
export type OperationUserError = CreateTaskPayload['userErrors'][number];

/** The form's fields: every input field but clientMutationId. */
export type FormField = Exclude<keyof CreateTaskInput, 'clientMutationId'>;

// Exactly the input's fields: tsc refuses a field the input lost or one it gained.
const FORM_FIELDS: { readonly [field in FormField]: true } = {
  title: true,
  description: true,
  priority: true,
  tags: true,
  dueAt: true,
  timeZone: true,
  recurrence: true,
  remindMinutesBefore: true,
  remindAt: true,
  requestId: true,
};

export type FormState =
  | { readonly kind: 'created'; readonly task: CreatedTask }
  | {
      readonly kind: 'refused';
      /** A message under each wrong field; an item of a list field, e.g. tags.2, names its index. */
      readonly fields: Readonly<Partial<Record<FormField, string>>>;
      /** Refusals bound to no field of the form, shown above it. */
      readonly form: ReadonlyArray<string>;
    }
  /** The payload is null: a top-level error (UNAUTHENTICATED, UNAVAILABLE, ...) said why. */
  | { readonly kind: 'failed' };

/** What the form adds to a refusal's message; a code the schema gains fails to compile here. */
export function hint(code: UserErrorCode): string {
  switch (code) {
    case 'INVALID':
      return 'Correct this field.';
    case 'NOT_FOUND':
      return 'It no longer exists.';
    case 'STALE_VERSION':
      return 'Someone changed it meanwhile: review the current version.';
    case 'TASK_DELETED':
      return 'The task was deleted since: start a new one.';
    case 'TASK_DONE':
      return 'The task is already done.';
    case 'TOO_MANY_WEBHOOKS':
      return 'Delete an endpoint first.';
    case 'DELIVERY_IN_FLIGHT':
      return 'It is being sent right now: try again shortly.';
    case 'CONFLICT':
      return 'It changed meanwhile: try again.';
    case 'CHANGED_SINCE':
      return 'It was changed again since: undo that change first.';
    case 'TASK_EXISTS':
      return 'It was restored already.';
    case 'NOT_REVERTIBLE':
      return 'There is nothing to undo.';
    case 'TOO_MANY_CALENDAR_FEEDS':
      return 'Revoke a calendar feed first.';
    default: {
      const unknown: never = code;
      return unknown;
    }
  }
}

function isFormField(name: string | undefined): name is FormField {
  return name !== undefined && name in FORM_FIELDS;
}

/** The operation's userErrors are the schema's UserError, selected: each one assigns to it. */
export function asSchemaError(error: OperationUserError): UserError {
  return error;
}

export function formState(payload: CreateTaskPayload | null): FormState {
  if (payload === null) {
    return { kind: 'failed' };
  }
  if (payload.task !== null && payload.userErrors.length === 0) {
    return { kind: 'created', task: payload.task };
  }
  const fields: Partial<Record<FormField, string>> = {};
  const form: string[] = [];
  for (const error of payload.userErrors.map(asSchemaError)) {
    const [root, name, ...rest] = error.field ?? [];
    const message = `${error.message} ${hint(error.code)}`;
    if (root === 'input' && isFormField(name)) {
      const shown = rest.length > 0 ? `${rest.join('.')}: ${message}` : message;
      fields[name] = fields[name] === undefined ? shown : `${fields[name]} ${shown}`;
    } else {
      form.push(message);
    }
  }
  return { kind: 'refused', fields, form };
}

export function createVariables(
  input: CreateTaskInput,
  connections: ReadonlyArray<string>,
): TaskListCreateMutationVariables {
  return { input, connections };
}
