#!/usr/bin/env python3
"""A tiny plaintext SMTP responder for benchmarks (asyncio, one thread, thousands of connections).

Greets, answers EHLO/HELO/MAIL/RCPT/RSET/NOOP with 250, DATA with 354 and then reads the message until
the final dot (RFC 5321 4.1.1.4) before answering 250, QUIT with 221. It stores nothing. It is the same
backend for the optls gateway and stunnel, so that both relay to an identical peer.

usage: smtp-backend.py PORT   (listens on 127.0.0.1 only)
"""
import asyncio
import sys


async def session(reader, writer):
    try:
        writer.write(b"220 backend.localhost ESMTP bench\r\n")
        await writer.drain()
        while True:
            line = await reader.readline()
            if not line:
                return
            verb = line[:4].upper()
            if verb in (b"EHLO", b"LHLO"):
                writer.write(b"250-backend.localhost\r\n250-PIPELINING\r\n250 8BITMIME\r\n")
            elif verb == b"DATA":
                writer.write(b"354 go ahead\r\n")
                await writer.drain()
                tail = b""
                while True:
                    chunk = await reader.read(262144)
                    if not chunk:
                        return
                    tail = (tail + chunk)[-5:] if len(chunk) < 5 else chunk[-5:]
                    if tail == b"\r\n.\r\n":
                        break
                writer.write(b"250 2.0.0 accepted\r\n")
            elif verb == b"QUIT":
                writer.write(b"221 2.0.0 bye\r\n")
                await writer.drain()
                return
            else:
                writer.write(b"250 2.0.0 ok\r\n")
            await writer.drain()
    except (ConnectionError, asyncio.IncompleteReadError):
        pass
    finally:
        writer.close()


async def main(port):
    server = await asyncio.start_server(session, "127.0.0.1", port, backlog=4096, limit=65536)
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1])))
