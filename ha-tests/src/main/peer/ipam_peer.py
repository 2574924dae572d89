"""The peer of tandem's ipam sample: what a user would build instead of tandem. Flask under gunicorn,
psycopg2, and PostgreSQL (a primary with a synchronous streaming standby), all from Debian packages.
It serves the same routes with the same semantics: one allocation is one transaction that takes the
next free address of the pool, never twice.

  POST /workflows/ipam/pools                     {"name": "lab", "cidr": "10.0.0.0/24"} -> 201
  POST /workflows/ipam/pools/<pool>/allocations  {"owner": "web-1"} -> 201 {"ip", "owner"}
  GET  /workflows/ipam/pools/<pool>/allocations  -> {"count", "distinct"}

PEER_DSN names the database; PEER_SYNC is the session's synchronous_commit: "on" waits for the sync
standby's flush (the pair), "local" only for the primary's own (one node). bin/tandem-bench peer
creates the tables (schema.sql) and starts it; it is not a product.
"""
import ipaddress
import os
import re

import psycopg2
from flask import Flask, jsonify, request

app = Flask(__name__)
_DSN = os.environ.get("PEER_DSN", "host=127.0.0.1 port=5432 dbname=postgres user=postgres")
_SYNC = os.environ.get("PEER_SYNC", "on")
if _SYNC not in ("on", "local", "remote_write", "remote_apply", "off"):
    raise SystemExit("PEER_SYNC must be a synchronous_commit value (on, local, ...), not %r" % _SYNC)
_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,62}$")
_networks = {}
_conn = None  # a sync gunicorn worker serves one request at a time: one connection each


def _db():
    global _conn
    if _conn is None or _conn.closed:
        _conn = psycopg2.connect(_DSN)
        with _conn.cursor() as cur:
            cur.execute("SET synchronous_commit = " + _SYNC)  # checked above: one of a few words
        _conn.commit()
    return _conn


# _network and _hosts are the ipam sample's, copied: the peer stands alone, as a user's own app would


def _network(cidr):
    net = _networks.get(cidr)
    if net is None:
        net = _networks[cidr] = ipaddress.ip_network(cidr, strict=True)
    return net


def _hosts(net):
    if net.num_addresses <= 2:
        return int(net.network_address), net.num_addresses
    return int(net.network_address) + 1, net.num_addresses - 2


def _error(status, message):
    return jsonify({"status": status, "message": message}), status


def _body(*required):
    body = request.get_json(silent=True)
    if not isinstance(body, dict) or any(not isinstance(body.get(k), str) or not body[k] for k in required):
        return None
    return body


@app.post("/workflows/ipam/pools")
def create_pool():
    body = _body("name", "cidr")
    if body is None or not _NAME.match(body["name"]):
        return _error(400, "send a JSON object with 'name' and 'cidr'")
    try:
        net = _network(body["cidr"])
    except ValueError as e:
        return _error(400, "cidr is not a network: %s" % e)
    first, size = _hosts(net)
    c = _db()
    try:
        with c.cursor() as cur:
            cur.execute("INSERT INTO pools(name, cidr, size, next, allocated) VALUES (%s, %s, %s, 0, 0)"
                        " ON CONFLICT (name) DO NOTHING", (body["name"], str(net), size))
            created = cur.rowcount == 1
        c.commit()
    except Exception:
        c.rollback()
        raise
    if not created:
        return _error(409, "pool %r exists already" % body["name"])
    return jsonify({"name": body["name"], "cidr": str(net), "size": size}), 201


@app.post("/workflows/ipam/pools/<pool>/allocations")
def allocate(pool):
    body = _body("owner")
    if body is None:
        return _error(400, "send a JSON object with 'owner'")
    c = _db()
    try:
        with c.cursor() as cur:
            cur.execute("SELECT cidr, next, allocated FROM pools WHERE name = %s FOR UPDATE", (pool,))
            row = cur.fetchone()
            if row is None:
                c.rollback()
                return _error(404, "no pool %r" % pool)
            cidr, offset, allocated = row[0], int(row[1]), int(row[2])  # numeric: an IPv6 pool outgrows bigint
            net = _network(cidr)
            first, size = _hosts(net)
            if allocated >= size:
                c.rollback()
                return _error(409, "pool %r is full" % pool)
            for _ in range(size):  # the next free address at or after the cursor, wrapping around
                cur.execute("SELECT 1 FROM allocations WHERE pool = %s AND k = %s", (pool, first + offset))
                if cur.fetchone() is None:
                    break
                offset = (offset + 1) % size
            ip = str(type(net.network_address)(first + offset))
            cur.execute("INSERT INTO allocations(pool, k, ip, owner) VALUES (%s, %s, %s, %s)", (pool, first + offset, ip, body["owner"]))
            cur.execute("UPDATE pools SET next = %s, allocated = allocated + 1 WHERE name = %s", ((offset + 1) % size, pool))
        c.commit()  # with PEER_SYNC=on: returns once the sync standby has flushed it
    except Exception:
        c.rollback()
        raise
    return jsonify({"ip": ip, "owner": body["owner"]}), 201


@app.get("/workflows/ipam/pools/<pool>/allocations")
def count_allocations(pool):
    c = _db()
    with c.cursor() as cur:
        cur.execute("SELECT count(*), count(DISTINCT ip) FROM allocations WHERE pool = %s", (pool,))
        count, distinct = cur.fetchone()
    c.rollback()
    return jsonify({"count": count, "distinct": distinct})
