"""Role monitoring: who this node is in its availability group, and hooks
that run when that changes::

    from tandem import ha

    @ha.on(ha.EventId.NODE_ROLE_CHANGED)
    def role_changed(event, **kwargs):
        if event.new == ha.NodeRole.PRIMARY:
            start_jobs()

Per workflow, events arrive one at a time in the order they happened, never
on the HTTP event loop. When the workflow loads, each NODE_ROLE_CHANGED
subscriber is called once with ``previous=None`` and the current role.
"""
import json as _json
from collections import namedtuple as _namedtuple

from tandem import _bridge


class NodeRole:
    PRIMARY = "PRIMARY"
    SECONDARY = "SECONDARY"
    NOT_IN_GROUP = "NOT_IN_GROUP"


class EventId:
    NODE_ROLE_CHANGED = "NODE_ROLE_CHANGED"
    PEER_JOINED = "PEER_JOINED"
    PEER_LOST = "PEER_LOST"
    REPLICATION_DEGRADED = "REPLICATION_DEGRADED"
    REPLICATION_RESTORED = "REPLICATION_RESTORED"
    DIVERGENCE_PRESERVED = "DIVERGENCE_PRESERVED"
    MAINTENANCE_CHANGED = "MAINTENANCE_CHANGED"


NodeRoleChanged = _namedtuple("NodeRoleChanged", ["previous", "new", "term", "reason"])
Event = _namedtuple("Event", ["id", "data"])

_subscribers = {}  # event id -> [callback]


def subscribe(event_id, callback):
    """Call ``callback(event, **kwargs)`` for every ``event_id`` event."""
    if not callable(callback):
        raise TypeError("subscribe needs a callable, got %r" % (callback,))
    _subscribers.setdefault(str(event_id), []).append(callback)
    return callback


def on(event_id):
    """Decorator form of :func:`subscribe`."""
    def register(fn):
        return subscribe(event_id, fn)
    return register


def get_node_state():
    """This node: name, role, term, priority, group, primary, lsn, lag, ..."""
    return _json.loads(_bridge.require().nodeState())


def get_group_state():
    """The group as this node sees it: term, primary, quorum and its nodes."""
    return _json.loads(_bridge.require().groupState())


def _event(event_id, data):
    if event_id == EventId.NODE_ROLE_CHANGED:
        return NodeRoleChanged(data.get("previous"), data.get("new"), data.get("term"), data.get("reason"))
    return Event(event_id, data)


def _name(callback):
    module = getattr(callback, "__module__", None) or "?"
    return "%s.%s" % (module, getattr(callback, "__qualname__", None) or getattr(callback, "__name__", repr(callback)))


def _subscriber_names(event_id):
    return _json.dumps([_name(c) for c in _subscribers.get(event_id, ())])


def _deliver_one(event_id, index, data_json):
    """Called by the node on the workflow's hook thread: run subscriber ``index`` of ``event_id``.

    Returns (hook name, traceback or None, returned value as text or None). Each subscriber runs on its own,
    so one that raises or hangs does not keep the others from their event."""
    callbacks = _subscribers.get(event_id, ())
    if index >= len(callbacks):
        return None, None, None
    callback = callbacks[index]
    try:
        result = callback(_event(event_id, _json.loads(data_json)))
        return _name(callback), None, (None if result is None else repr(result)[:200])
    except Exception:
        import traceback
        return _name(callback), traceback.format_exc(), None
