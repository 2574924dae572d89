"""The node's Java object, installed once per workflow context."""
host = None
workflow = None


def install(h, name):
    global host, workflow
    host = h
    workflow = name


def require():
    if host is None:
        raise RuntimeError("tandem is not running inside a tandem node: the state and ha APIs are unavailable")
    return host
