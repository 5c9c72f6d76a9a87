"""Helpers shared by Confab's Python test suites (Tests/integration, Tests/browser).

Both suites run the real `confab` binary (CONFAB_BINARY) over real sockets on
127.0.0.1. Each suite's pytest.ini puts Tests/ on sys.path (`pythonpath = ..`)
and its conftest.py loads `confabtest.plugin`.

Modules, one concern each (import them directly; this file imports nothing):

- `paths`     the binary under test (required: never a fallback) and the web root;
- `waiting`   deadlines, condition polling, lines of a child's output;
- `server`    one `confab serve` process: config file, port 0, the listening line,
              stderr log, graceful stop;
- `rawconn`   a TCP connection whose every read has a deadline, raw HTTP/1.1;
- `websocket` an independent RFC 6455 frame encoder/decoder and raw WebSocket clients;
- `chat`      a protocol-v1 JSON chat client (the `websockets` library) and predicates;
- `proxy`     a TCP proxy whose connections a test can cut (RST or FIN);
- `probes`    /proc figures of a process, Prometheus text samples;
- `plugin`    the pytest plugin: the binary check at session start, test outcomes
              for teardown, stopping servers and reporting their problems.

Rules every helper follows:
- every wait is on an event (a message, a line, EOF, process exit) with a
  deadline; there is no sleep used as synchronisation;
- every loop is bounded (by a deadline and/or a count);
- everything listens on and connects to 127.0.0.1 only.
"""
