// One task as a list row, refetchable on its own through node(id:).
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
  mutation TaskRowRenameMutation($id: ID!, $title: String!, $version: Int) {
    updateTask(id: $id, input: { title: $title }, expectedVersion: $version) {
      ...TaskRow_task
    }
  }
`;
