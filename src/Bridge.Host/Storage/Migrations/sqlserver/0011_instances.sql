-- Bridge storage, version 11 (SQL Server): the live Bridge instances, each renewing a lease by the database's clock, so that
-- they can share what is the installation's (the rate limit toward ActivePlatform).
-- One batch, no GO separators (the runner sends the script as one command).

CREATE TABLE bridge.instances
(
    id               nvarchar(200)     NOT NULL,
    started_at       datetimeoffset(7) NOT NULL,
    lease_expires_at datetimeoffset(7) NOT NULL,
    CONSTRAINT pk_instances PRIMARY KEY (id)
);
