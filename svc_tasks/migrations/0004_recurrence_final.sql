-- Whether completing this task ends its series (see todo.tasks.v1.Recurrence.final).
-- Tasks stored before this column: only COUNT=1 is known without expanding the rule.
ALTER TABLE tasks ADD COLUMN recurrence_final boolean NOT NULL DEFAULT false;
UPDATE tasks SET recurrence_final = true WHERE recurrence_rule ~ '(^|;)COUNT=1(;|$)';
