"""greet: a workflow the tests deploy as a zip at run time."""
from tandem import route, ha

VERSION = 1
_roles = []  # every NODE_ROLE_CHANGED call this copy got: [previous, new]


@ha.on(ha.EventId.NODE_ROLE_CHANGED)
def _on_role(event, **kwargs):
    _roles.append([event.previous, event.new])


@route("GET", "/")
def hello(request):
    return {"version": VERSION, "node": ha.get_node_state()["name"], "roles": _roles}
