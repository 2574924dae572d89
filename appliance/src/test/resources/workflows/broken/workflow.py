from tandem import route


@route("GET", "/"
def oops(request):
    return {}
