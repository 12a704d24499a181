-- wrk: one successful POST /iPadLogin, the request the benchmark measures on every server.
wrk.method = "POST"
wrk.body = '{"type":2}'
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = os.getenv("IPADLOGIN_TOKEN") or "ipadlogin-dev-token"
