-- An event whose Protobuf message carries a sequence number allocated by the same statement
-- that writes it (todo_runtime/outbox.py, `sequenced_insert`): the statement appends the field
-- to the encoded message. Protobuf parsers merge concatenated encodings (the last value of a
-- scalar field wins), so `value || protobuf_varint_field(8, 41)` is the message with field 8
-- set to 41.

-- The base-128 varint encoding of a non-negative integer.
CREATE FUNCTION protobuf_varint(value bigint) RETURNS bytea
LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE AS $$
DECLARE
    encoded bytea := '';
    rest bigint := value;
BEGIN
    IF rest < 0 THEN
        RAISE EXCEPTION 'protobuf_varint: % is negative', value;
    END IF;
    WHILE rest >= 128 LOOP
        encoded := encoded || set_byte('\x00'::bytea, 0, (rest & 127)::integer | 128);
        rest := rest >> 7;
    END LOOP;
    RETURN encoded || set_byte('\x00'::bytea, 0, rest::integer);
END;
$$;

-- A varint field (wire type 0): its tag, then its value.
CREATE FUNCTION protobuf_varint_field(field integer, value bigint) RETURNS bytea
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
RETURN protobuf_varint(field::bigint << 3) || protobuf_varint(value);
