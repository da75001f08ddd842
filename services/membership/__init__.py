"""paceline.membership: who is alive and whether this partition has quorum (Corosync's job, on NATS)."""
