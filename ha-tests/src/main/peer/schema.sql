-- the peer's tables (ipam_peer.py): a pool row is locked by each allocation, as tandem serialises writes
CREATE TABLE pools (name text PRIMARY KEY, cidr text NOT NULL, size numeric NOT NULL, next numeric NOT NULL, allocated numeric NOT NULL);
CREATE TABLE allocations (pool text NOT NULL REFERENCES pools(name), k numeric NOT NULL, ip text NOT NULL, owner text NOT NULL,
                          PRIMARY KEY (pool, k));
