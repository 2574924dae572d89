"""A role hook written the way BlueCat Gateway documents it, plus hooks that misbehave (HookDeliveryTest)."""
from availability_group.api import EventId, NodeRole, NodeRoleChanged, subscribe, get_node_state

from tandem import route, ha

_current_role = None  # BlueCat style: the role cached in a global
_calls = []
_maintenance = []


def role_monitoring(event, **kwargs):
    global _current_role
    _calls.append([event.previous, event.new, event.term])
    if event.new == NodeRole.NOT_IN_GROUP:
        _current_role = "standalone"
    elif event.new == NodeRole.PRIMARY:
        _current_role = "active"
    elif event.new == NodeRole.SECONDARY:
        _current_role = "standby"


subscribe(EventId.NODE_ROLE_CHANGED, role_monitoring)


@ha.on(ha.EventId.MAINTENANCE_CHANGED)
def never_returns(event, **kwargs):
    if event.data.get("enabled"):
        while True:
            pass


@ha.on(ha.EventId.MAINTENANCE_CHANGED)
def raises(event, **kwargs):
    print("about to fail")
    raise ValueError("hook failed on purpose")


@ha.on(ha.EventId.MAINTENANCE_CHANGED)
def returns_garbage(event, **kwargs):
    _maintenance.append(event.data.get("enabled"))
    return {1, 2, 3}


@route("GET", "/state")
def state(request):
    return {"role": _current_role, "calls": _calls, "maintenance": _maintenance, "node": get_node_state()["name"]}
