// One task as a list row, refetchable on its own through node(id:), with the row's mutations.
//
// Each mutation follows the Relay mutation convention the schema uses: one `$input` and a
// payload. The payload's `task` carries the row's fragment, so Relay's store updates the record
// by its id; `userErrors` says which input fields a form should mark, and `clientMutationId`
// comes back as sent.
import { graphql } from 'relay-runtime';

export const taskRowFragment = graphql`
  fragment TaskRow_task on Task @refetchable(queryName: "TaskRowRefetchQuery") {
    id
    title
    status
    priority
    tags
    dueAt
    version
  }
`;

export const taskRowRenameMutation = graphql`
  mutation TaskRowRenameMutation($input: UpdateTaskInput!) {
    updateTask(input: $input) {
      clientMutationId
      task {
        ...TaskRow_task
      }
      userErrors {
        field
        message
        code
      }
    }
  }
`;

export const taskRowCompleteMutation = graphql`
  mutation TaskRowCompleteMutation($input: CompleteTaskInput!) {
    completeTask(input: $input) {
      task {
        ...TaskRow_task
      }
      userErrors {
        field
        message
        code
      }
    }
  }
`;

// The row leaves every list it is shown in (`$connections`, from ConnectionHandler.getConnectionID).
export const taskRowDeleteMutation = graphql`
  mutation TaskRowDeleteMutation($input: DeleteTaskInput!, $connections: [ID!]!) {
    deleteTask(input: $input) {
      deletedTaskId @deleteEdge(connections: $connections)
      userErrors {
        field
        message
        code
      }
    }
  }
`;
