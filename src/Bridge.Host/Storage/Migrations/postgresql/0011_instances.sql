-- Bridge storage, version 11 (PostgreSQL): the live Bridge instances, each renewing a lease by the database's clock, so that
-- they can share what is the installation's (the rate limit toward ActivePlatform).

CREATE TABLE bridge.instances
(
    id               varchar(200) NOT NULL,
    started_at       timestamptz  NOT NULL,
    lease_expires_at timestamptz  NOT NULL,
    CONSTRAINT pk_instances PRIMARY KEY (id)
);
