-- The registrar's tables as an application would keep them itself in PostgreSQL, for
-- bench/pg-enroll.sql: a seat count per section, checked by the UPDATE that takes a
-- seat, and one row per enrollment. Integer ids and no foreign keys, so each
-- transaction does the least a registrar could get away with.
-- Usage: psql -v sections=300 -v capacity=1000000 -f bench/pg-schema.sql DATABASE
SET client_min_messages = warning;
DROP TABLE IF EXISTS enrollments, sections;
CREATE TABLE sections (
    id       integer PRIMARY KEY,
    capacity integer NOT NULL,
    enrolled integer NOT NULL DEFAULT 0 CHECK (enrolled <= capacity)
);
CREATE TABLE enrollments (
    section integer NOT NULL,
    student integer NOT NULL,
    at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX enrollments_section_student ON enrollments (section, student);
INSERT INTO sections (id, capacity) SELECT g, :capacity FROM generate_series(1, :sections) g;
VACUUM ANALYZE sections;
