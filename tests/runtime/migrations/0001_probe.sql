-- The schema of the probe service the service-builder tests start.
CREATE TABLE probe (id integer PRIMARY KEY);
