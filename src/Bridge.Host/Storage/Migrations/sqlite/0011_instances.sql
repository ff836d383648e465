-- Bridge storage, version 11 (SQLite): the live Bridge instances, each renewing a lease by the database's clock, so that
-- they can share what is the installation's (the rate limit toward ActivePlatform).

CREATE TABLE instances
(
    id               TEXT NOT NULL,
    started_at       TEXT NOT NULL,
    lease_expires_at TEXT NOT NULL,
    CONSTRAINT pk_instances PRIMARY KEY (id)
);
