"""A TCP proxy on 127.0.0.1 whose connections the test can cut: a real dropped connection.

Both suites use it between a client (a browser, `confab chat`) and the server, to drop
the connection without a WebSocket close frame and then let the client reconnect.
"""

from __future__ import annotations

import socket
import struct
import threading

from confabtest.waiting import DEFAULT_TIMEOUT


class _Pair:
    def __init__(self, client: socket.socket, upstream: socket.socket):
        self.client = client
        self.upstream = upstream
        self.cut = False


class TCPProxy:
    """Forwards 127.0.0.1:<port> to 127.0.0.1:<upstream_port>, byte for byte.

    `cut()` ends every open connection on both sides: with `reset` (the default) by
    an RST (SO_LINGER 0), else by an orderly FIN; either way no WebSocket close frame.
    With `refuse` (the default), new connections are then reset at once, so a browser
    stays in "reconnecting" until `accept_again()`. `upstream_port` may be changed to
    point new connections at another server (a restart).
    """

    def __init__(self, upstream_port: int):
        self.upstream_port = upstream_port
        self.listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(64)
        self.port = self.listener.getsockname()[1]
        self.refusing = threading.Event()
        self.lock = threading.Lock()
        self._accepted_changed = threading.Condition(self.lock)
        self.pairs: list[_Pair] = []
        self.accepted = 0
        self.closed = False
        threading.Thread(target=self._accept_loop, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/"

    @staticmethod
    def _reset(sock: socket.socket):
        """Close with SO_LINGER 0 so the kernel sends an RST, not a FIN."""
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        except OSError:
            pass
        try:
            # wakes a pump thread blocked in recv() on this socket, without sending anything;
            # the RST goes out when the last reference to the socket is released
            sock.shutdown(socket.SHUT_RD)
        except OSError:
            pass
        try:
            sock.close()
        except OSError:
            pass

    @staticmethod
    def _finish(sock: socket.socket):
        """Close with a FIN both ways (wakes a pump thread blocked in recv() on it)."""
        try:
            sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        try:
            sock.close()
        except OSError:
            pass

    def _accept_loop(self):
        while not self.closed:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            if self.refusing.is_set():
                self._reset(client)
                continue
            try:
                upstream = socket.create_connection(("127.0.0.1", self.upstream_port), timeout=5)
                upstream.settimeout(None)
            except OSError:
                self._reset(client)
                continue
            for s in (client, upstream):
                s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            pair = _Pair(client, upstream)
            with self.lock:
                self.pairs.append(pair)
                self.accepted += 1
                self._accepted_changed.notify_all()
            threading.Thread(target=self._pump, args=(pair, client, upstream), daemon=True).start()
            threading.Thread(target=self._pump, args=(pair, upstream, client), daemon=True).start()

    def _pump(self, pair: "_Pair", src: socket.socket, dst: socket.socket):
        try:
            while not pair.cut:
                data = src.recv(65536)
                if not data or pair.cut:
                    break
                dst.sendall(data)
        except OSError:
            pass
        if pair.cut:
            return  # cut() ends both sides; nothing more from here
        try:
            dst.shutdown(socket.SHUT_WR)  # pass on an orderly end
        except OSError:
            pass

    def wait_accepted(self, count: int, timeout: float = DEFAULT_TIMEOUT) -> None:
        """Wait until `count` connections in all have been forwarded."""
        with self.lock:
            assert self._accepted_changed.wait_for(lambda: self.accepted >= count, timeout), \
                f"{self.accepted} connections through the proxy, expected {count}"

    def cut(self, refuse: bool = True, reset: bool = True) -> int:
        """End every open connection (RST both ways, or FIN with `reset=False`); with
        `refuse`, keep refusing new ones. Returns how many connections were cut."""
        if refuse:
            self.refusing.set()
        with self.lock:
            pairs, self.pairs = self.pairs, []
        end = self._reset if reset else self._finish
        for pair in pairs:
            pair.cut = True
            end(pair.client)
            end(pair.upstream)
        return len(pairs)

    def accept_again(self):
        self.refusing.clear()

    def close(self):
        self.closed = True
        try:
            self.listener.close()
        except OSError:
            pass
        self.cut(refuse=True)
