"""A tenant's own OpenAI-compatible upstream gone bad, for bench/noisy-neighbor.sh: one thread per
connection, blocking sockets (a send waits as a real peer's would). The model picks the behaviour:
`trickle` (headers at once, then one byte every 2 s), `flood` (headers, then data as fast as it is
taken); anything else is answered 404. Every answer ends after 120 s or when its reader leaves.
Usage: hostile_upstream.py PORT"""
import json
import socket
import sys
import threading
import time

EVENT = ('data: {"id":"f","object":"chat.completion.chunk","created":1,"model":"flood","choices":[{"index":0,'
         '"delta":{"content":"' + "flood " * 10_000 + '"}}]}\n\n').encode()


def chunk(data: bytes) -> bytes:
    return b"%x\r\n" % len(data) + data + b"\r\n"


def read_request(conn: socket.socket) -> dict:
    data = b""
    while b"\r\n\r\n" not in data:
        part = conn.recv(65536)
        if not part:
            return {}
        data += part
    head, _, body = data.partition(b"\r\n\r\n")
    length = 0
    for line in head.split(b"\r\n"):
        if line.lower().startswith(b"content-length:"):
            length = int(line.split(b":", 1)[1])
    while len(body) < length:
        part = conn.recv(65536)
        if not part:
            return {}
        body += part
    try:
        return json.loads(body[:length] or b"{}")
    except ValueError:
        return {}


def serve(conn: socket.socket) -> None:
    until = time.time() + 120
    try:
        request = read_request(conn)
        model, streaming = request.get("model", ""), request.get("stream") is True
        if model not in ("trickle", "flood"):
            conn.sendall(b"HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\nconnection: close\r\n\r\n")
            return
        kind = b"text/event-stream" if streaming else b"application/json"
        conn.sendall(b"HTTP/1.1 200 OK\r\ncontent-type: " + kind + b"\r\ntransfer-encoding: chunked\r\n\r\n")
        piece = chunk(EVENT * 10 if streaming else b" " * 65536)
        while time.time() < until:
            if model == "flood":
                conn.sendall(piece)
            else:
                conn.sendall(chunk(b":" if streaming else b" "))
                time.sleep(2)
    except OSError:
        pass
    finally:
        conn.close()


def main() -> None:
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", int(sys.argv[1])))
    listener.listen(256)
    while True:
        conn, _ = listener.accept()
        threading.Thread(target=serve, args=(conn,), daemon=True).start()


if __name__ == "__main__":
    main()
