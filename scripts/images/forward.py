#!/usr/bin/env python3
"""Joins a task's own network namespace to a service on the host, for the image tests: ECS gives a
task's containers one network namespace with a route to AWS; here that namespace has only its
loopback, and this forwards a port of it to the host's moto (or another service) through a Unix
socket, which a bind mount shares across namespaces.

  forward.py tcp-to-unix PORT SOCKET     inside the namespace: 127.0.0.1:PORT -> SOCKET
  forward.py unix-to-tcp SOCKET PORT     on the host: SOCKET -> 127.0.0.1:PORT
(pairs may repeat: tcp-to-unix P1 S1 tcp-to-unix P2 S2)
"""
import asyncio
import os
import sys


async def pipe(reader, writer):
    try:
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
    except (ConnectionError, OSError):
        pass
    finally:
        writer.close()


def joining(connect):
    async def handle(reader, writer):
        try:
            up_reader, up_writer = await connect()
        except OSError:
            writer.close()
            return
        await asyncio.gather(pipe(reader, up_writer), pipe(up_reader, writer))
    return handle


async def main(args):
    servers = []
    while args:
        mode, a, b, args = args[0], args[1], args[2], args[3:]
        if mode == "tcp-to-unix":
            servers.append(await asyncio.start_server(
                joining(lambda s=b: asyncio.open_unix_connection(s)), "127.0.0.1", int(a)))
        elif mode == "unix-to-tcp":
            if os.path.exists(a):
                os.unlink(a)
            servers.append(await asyncio.start_unix_server(
                joining(lambda p=int(b): asyncio.open_connection("127.0.0.1", p)), a))
            os.chmod(a, 0o666)
        else:
            sys.exit(f"forward.py: {mode} is tcp-to-unix or unix-to-tcp")
    print("forward.py: ready", flush=True)
    await asyncio.gather(*(s.serve_forever() for s in servers))


asyncio.run(main(sys.argv[1:]))
