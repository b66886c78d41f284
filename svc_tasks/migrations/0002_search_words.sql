-- Typo-tolerant search without scanning task text: every distinct word ever
-- indexed is kept here (small, trigram-indexed); a search word is widened to
-- the similar known words, and the full-text index does the rest.
CREATE TABLE search_words (word text PRIMARY KEY);
CREATE INDEX search_words_trigram ON search_words USING gin (word gin_trgm_ops);

-- Numbers and one- or two-letter words have no useful typo neighbours.
CREATE FUNCTION is_correctable(word text) RETURNS boolean LANGUAGE sql IMMUTABLE
    AS $$ SELECT length(word) >= 3 AND word !~ '^[0-9]+$' $$;

INSERT INTO search_words (word)
SELECT DISTINCT lexeme FROM tasks, unnest(search_document) WHERE is_correctable(lexeme)
ON CONFLICT DO NOTHING;

-- tsvector lexemes come out sorted, so concurrent writers lock words in the
-- same order and cannot deadlock.
CREATE FUNCTION remember_search_words() RETURNS trigger LANGUAGE plpgsql
    SET search_path FROM CURRENT  -- this schema, whoever writes the row
    AS $$
BEGIN
    INSERT INTO search_words (word)
    SELECT lexeme FROM unnest(NEW.search_document) WHERE is_correctable(lexeme)
    ON CONFLICT DO NOTHING;
    RETURN NULL;
END;
$$;
CREATE TRIGGER remember_search_words AFTER INSERT OR UPDATE OF title, description ON tasks
    FOR EACH ROW EXECUTE FUNCTION remember_search_words();

DROP INDEX tasks_search_trigram;
ALTER TABLE tasks DROP COLUMN search_text;
