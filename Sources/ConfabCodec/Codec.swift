// The HTTP/1.1 and RFC 6455 codec: bytes in, requests/frames/errors out. No I/O.
