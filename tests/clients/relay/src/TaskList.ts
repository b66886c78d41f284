// A task list paged by usePaginationFragment: Query.tasks as a Relay connection.
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
