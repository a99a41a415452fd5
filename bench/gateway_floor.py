"""The floor of `bench_gateway.py`: an ASGI app that reads the request and answers 202 with a
small JSON body, served by the same server setup as the gateway (`gateway.server`), so what the
gateway adds on top of it is its own cost.

    python -m bench.gateway_floor PORT [WORKERS]

With WORKERS > 1 it runs that many processes on one socket, as `conveyor run gateway --workers`.
"""

from __future__ import annotations

import sys

from starlette.types import Receive, Scope, Send

_BODY = b'{"event_id":"00000000-0000-0000-0000-000000000000"}'


async def app(scope: Scope, receive: Receive, send: Send) -> None:
    if scope["type"] == "lifespan":
        while (await receive())["type"] != "lifespan.shutdown":
            await send({"type": "lifespan.startup.complete"})
        await send({"type": "lifespan.shutdown.complete"})
        return
    more = True
    while more:
        more = (await receive()).get("more_body", False)
    status = 200 if scope["path"] == "/livez" else 202
    headers = [(b"content-type", b"application/json")]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": _BODY})


def _main(port: int, workers: int) -> int:
    from gateway.server import serve
    from gateway.workers import bind, run_workers

    if workers == 1:
        serve(app, "127.0.0.1", port)
        return 0
    sock = bind("127.0.0.1", port)

    def work(_: int) -> int:
        serve(app, "127.0.0.1", port, sock=sock)
        return 0

    return run_workers(workers, work)


if __name__ == "__main__":
    sys.exit(_main(int(sys.argv[1]), int(sys.argv[2]) if len(sys.argv) > 2 else 1))
