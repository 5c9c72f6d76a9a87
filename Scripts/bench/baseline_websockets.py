#!/usr/bin/env python3
"""A baseline broadcast server for `ConfabBench fanout`: Python's `websockets` (asyncio),
the kind of server Confab means to beat. Every text message received is sent to every
client, with the library's own broadcast helper (one encoding, many writes).

    .venv-test/bin/python Scripts/bench/baseline_websockets.py 9001 &
    FANOUT_PORT=9001 .build/release/ConfabBench fanout
"""
import asyncio
import sys

from websockets.asyncio.server import broadcast, serve

clients = set()


async def handler(ws):
    clients.add(ws)
    try:
        async for message in ws:
            broadcast(clients, message)
    finally:
        clients.discard(ws)


async def main(port):
    async with serve(handler, "127.0.0.1", port, max_queue=None, write_limit=1 << 24):
        await asyncio.get_running_loop().create_future()


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1]) if len(sys.argv) > 1 else 9001))
