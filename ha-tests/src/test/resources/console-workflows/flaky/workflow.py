"""flaky: a workflow whose role hook raises on every role change (ConsoleTest: the failure and its traceback in the timeline)."""
from tandem import route, ha


@ha.on(ha.EventId.NODE_ROLE_CHANGED)
def on_role_change(event, **kwargs):
    print("flaky hook: role is now", event.new)
    raise RuntimeError("the hook failed on purpose")


@route("GET", "/")
def index(request):
    return {"flaky": True}
