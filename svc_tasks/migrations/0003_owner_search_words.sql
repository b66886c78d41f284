-- Known search words per owner. 0002 kept one table for all users, so another
-- user's vocabulary decided which similar words your search was widened to
-- (and so revealed itself), and words of deleted or edited tasks stayed
-- forever. Now each owner has their own words, each counted by the owner's
-- tasks that use it; a word goes when its last task does.
CREATE EXTENSION IF NOT EXISTS btree_gin WITH SCHEMA public;

-- Writers wait for this migration, so the rebuild below misses no task.
LOCK TABLE tasks IN SHARE ROW EXCLUSIVE MODE;

DROP TRIGGER remember_search_words ON tasks;
DROP FUNCTION remember_search_words();
DROP TABLE search_words;

CREATE TABLE search_words (
    owner_id text NOT NULL,
    word text NOT NULL,
    uses integer NOT NULL,  -- the owner's tasks whose title or description holds the word
    PRIMARY KEY (owner_id, word)
) WITH (fillfactor = 70);  -- room for HOT updates of the counts

INSERT INTO search_words (owner_id, word, uses)
SELECT owner_id, lexeme, count(*)
FROM tasks, unnest(search_document)
WHERE is_correctable(lexeme)
GROUP BY owner_id, lexeme;

-- Serves `owner_id = $1 AND word % $2`: btree_gin puts the owner in the trigram index.
CREATE INDEX search_words_trigram ON search_words USING gin (owner_id, word gin_trgm_ops);

-- Statement-level over transition tables, so a bulk INSERT ... SELECT changes
-- each word once (updating one row once per task in a single transaction
-- would be quadratic). Transition tables rule out `UPDATE OF title,
-- description`; an update that leaves the text alone is skipped here instead.
CREATE FUNCTION count_search_words() RETURNS trigger LANGUAGE plpgsql
    SET search_path FROM CURRENT  -- this schema, whoever writes the row
    AS $$
DECLARE
    added_owners text[];
    added tsvector[];
    removed_owners text[];
    removed tsvector[];
    gone_owners text[];
    gone_words text[];
BEGIN
    IF TG_OP = 'TRUNCATE' THEN
        TRUNCATE search_words;
        RETURN NULL;
    ELSIF TG_OP = 'INSERT' THEN
        SELECT array_agg(owner_id), array_agg(search_document) INTO added_owners, added
        FROM new_rows;
    ELSIF TG_OP = 'DELETE' THEN
        SELECT array_agg(owner_id), array_agg(search_document) INTO removed_owners, removed
        FROM old_rows;
    ELSE
        SELECT array_agg(n.owner_id), array_agg(n.search_document),
               array_agg(o.owner_id), array_agg(o.search_document)
        INTO added_owners, added, removed_owners, removed
        FROM old_rows AS o FULL JOIN new_rows AS n ON n.id = o.id
        WHERE (n.owner_id, n.search_document) IS DISTINCT FROM (o.owner_id, o.search_document);
    END IF;

    -- All deltas in one statement, in (owner, word) order: concurrent writers
    -- lock the words they share in the same order, so they cannot deadlock.
    WITH changed AS (
        INSERT INTO search_words AS known (owner_id, word, uses)
        SELECT owner_id, lexeme, sum(delta)
        FROM (
            SELECT d.owner_id, w.lexeme, 1 AS delta
            FROM unnest(added_owners, added) AS d (owner_id, document), unnest(d.document) AS w
            UNION ALL
            SELECT d.owner_id, w.lexeme, -1
            FROM unnest(removed_owners, removed) AS d (owner_id, document), unnest(d.document) AS w
        ) AS deltas
        WHERE is_correctable(lexeme)
        GROUP BY owner_id, lexeme
        HAVING sum(delta) <> 0
        ORDER BY owner_id, lexeme
        ON CONFLICT (owner_id, word) DO UPDATE SET uses = known.uses + excluded.uses
        RETURNING owner_id, word, uses
    )
    SELECT array_agg(owner_id), array_agg(word) INTO gone_owners, gone_words
    FROM changed WHERE uses <= 0;

    IF gone_words IS NOT NULL THEN  -- rows locked just above: no new waits
        DELETE FROM search_words
        WHERE (owner_id, word) IN (SELECT * FROM unnest(gone_owners, gone_words));
    END IF;
    RETURN NULL;
END;
$$;

CREATE TRIGGER count_search_words_inserted AFTER INSERT ON tasks
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION count_search_words();
CREATE TRIGGER count_search_words_updated AFTER UPDATE ON tasks
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION count_search_words();
CREATE TRIGGER count_search_words_deleted AFTER DELETE ON tasks
    REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION count_search_words();
CREATE TRIGGER count_search_words_truncated AFTER TRUNCATE ON tasks
    FOR EACH STATEMENT EXECUTE FUNCTION count_search_words();
