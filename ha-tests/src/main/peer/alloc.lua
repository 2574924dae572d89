-- wrk script of bin/tandem-bench peer: every request allocates one address from the pool in the URL
wrk.method = "POST"
wrk.body = '{"owner": "bench"}'
wrk.headers["Content-Type"] = "application/json"
