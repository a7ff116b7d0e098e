-- Sign-in attempt windows (per account and address, per address, per account), shared by
-- every instance so that an attacker cannot multiply the attempts allowed by the number of
-- instances behind the load balancer. `started` is milliseconds since the epoch.
CREATE TABLE login_windows (
    key      TEXT PRIMARY KEY,
    started  BIGINT NOT NULL,
    attempts INTEGER NOT NULL
);
CREATE INDEX login_windows_started ON login_windows (started);
