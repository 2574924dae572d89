"""hello: the smallest workflow. GET /workflows/hello/ answers with the node's name and role."""
from tandem import route, ha


@route("GET", "/")
def hello(request):
    node = ha.get_node_state()
    return {"hello": "from tandem", "node": node["name"], "role": node["role"], "term": node["term"]}
