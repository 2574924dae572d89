"""The workflow's replicated state: JSON documents by (collection, key).

Each workflow has its own namespace. Every write is committed to the
primary's H2 database with a log sequence number (LSN) and replicated to the
secondary as one change per transaction::

    with state.transaction() as tx:
        pool = tx.get("pools", "lab")
        tx.put("allocations", "10.0.0.7", {"pool": "lab", "owner": "web-1"})

Values are anything ``json.dumps`` accepts. Keys and collection names are
non-empty strings.
"""
import json as _json

from tandem import _bridge


def _check(collection, key=None):
    if not isinstance(collection, str) or not collection:
        raise ValueError("collection must be a non-empty string, got %r" % (collection,))
    if key is not None and (not isinstance(key, str) or not key):
        raise ValueError("key must be a non-empty string, got %r" % (key,))


def _loads(text):
    return None if text is None else _json.loads(text)


class Transaction:
    """An atomic set of reads and writes; commit on normal exit of the
    ``with`` block, roll back if it raises."""

    def __init__(self, handle):
        self._tx = handle

    def get(self, collection, key, default=None):
        _check(collection, key)
        value = _loads(self._tx.get(collection, key))
        return default if value is None else value

    def put(self, collection, key, value):
        _check(collection, key)
        self._tx.put(collection, key, _json.dumps(value))

    def delete(self, collection, key):
        _check(collection, key)
        return bool(self._tx.delete(collection, key))

    def scan(self, collection, prefix="", limit=100):
        _check(collection)
        return [(k, _json.loads(v)) for k, v in _json.loads(self._tx.scan(collection, prefix, int(limit)))]

    def count(self, collection, prefix=""):
        _check(collection)
        return int(self._tx.count(collection, prefix))

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc, tb):
        if exc_type is None:
            self._tx.commit()
        else:
            self._tx.rollback()
        return False


def transaction():
    """Start a transaction: ``with state.transaction() as tx: ...``"""
    return Transaction(_bridge.require().begin())


def get(collection, key, default=None):
    with transaction() as tx:
        return tx.get(collection, key, default)


def put(collection, key, value):
    with transaction() as tx:
        tx.put(collection, key, value)


def delete(collection, key):
    with transaction() as tx:
        return tx.delete(collection, key)


def scan(collection, prefix="", limit=100):
    """Up to ``limit`` (key, value) pairs whose key starts with ``prefix``, by key."""
    with transaction() as tx:
        return tx.scan(collection, prefix, limit)


def count(collection, prefix=""):
    with transaction() as tx:
        return tx.count(collection, prefix)
