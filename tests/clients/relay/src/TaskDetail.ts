// A task page that loads the task by its global id with node(id:).
import { graphql } from 'relay-runtime';

export const taskDetailQuery = graphql`
  query TaskDetailQuery($id: ID!) {
    node(id: $id) {
      id
      ... on Task {
        title
        description
        status
        timeZone
        dueAt
        recurrence {
          rule
          text
        }
        reminders {
          id
          minutesBefore
          at
        }
      }
    }
  }
`;
