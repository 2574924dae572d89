from tandem import route, state


@route("GET", "/peek/{coll}/{key}")
def peek(request, coll, key):
    """The same collection name as 'api' uses: must not see api's documents."""
    return {"value": state.get(coll, key)}
