-- pgbench script: one enrollment per transaction, as a registrar would write it on
-- PostgreSQL without murphy. Take a seat with a conditional UPDATE (it refuses a full
-- section), and only if it took one, write the enrollment row; one commit, which waits
-- for the disk (synchronous_commit = on).
-- Variables (pgbench -D): sections, students. Tables: bench/pg-schema.sql.
\set section random(1, :sections)
\set student random(1, :students)
\set seat 0
BEGIN;
UPDATE sections SET enrolled = enrolled + 1 WHERE id = :section AND enrolled < capacity RETURNING 1 AS seat \aset
\if :seat
INSERT INTO enrollments (section, student) VALUES (:section, :student);
\endif
END;
