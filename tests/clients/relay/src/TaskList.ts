// A task list paged by usePaginationFragment: Query.tasks as a Relay connection, and the form
// that adds a task to it.
import { graphql } from 'relay-runtime';

export const taskListQuery = graphql`
  query TaskListQuery($first: Int, $after: String, $filter: TaskFilter, $orderBy: [TaskOrder!]) {
    ...TaskList_query @arguments(first: $first, after: $after, filter: $filter, orderBy: $orderBy)
  }
`;

export const taskListFragment = graphql`
  fragment TaskList_query on Query
  @argumentDefinitions(
    first: { type: "Int", defaultValue: 20 }
    after: { type: "String" }
    filter: { type: "TaskFilter" }
    orderBy: { type: "[TaskOrder!]" }
  )
  @refetchable(queryName: "TaskListPaginationQuery") {
    tasks(first: $first, after: $after, filter: $filter, orderBy: $orderBy)
      @connection(key: "TaskList_tasks", filters: ["filter", "orderBy"]) {
      totalCount
      edges {
        node {
          id
          ...TaskRow_task
        }
      }
    }
  }
`;

// The new task goes first in the lists given (`$connections`) when it was created; a refused
// input leaves `task` null and binds each userError to its input field, for the form to show.
export const taskListCreateMutation = graphql`
  mutation TaskListCreateMutation($input: CreateTaskInput!, $connections: [ID!]!) {
    createTask(input: $input) {
      clientMutationId
      task @prependNode(connections: $connections, edgeTypeName: "TaskEdge") {
        id
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
