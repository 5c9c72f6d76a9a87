import Glibc

/// Raw mode for the terminal on standard input, restored on every exit path the process
/// controls (normal exit, /quit, Ctrl-C/Ctrl-D, SIGTERM/SIGHUP through the loop).
public final class RawTerminal {
    private var saved = termios()
    private var active = false
    let fd: Int32

    public init?(fd: Int32 = 0) {
        guard isatty(fd) == 1 else { return nil }
        self.fd = fd
    }

    public func enable() {
        guard !active, tcgetattr(fd, &saved) == 0 else { return }
        var raw = saved
        // No line buffering, no echo, no signals from Ctrl-C (we read 0x03 ourselves),
        // no CR→NL translation; output processing stays on so "\n" is still a newline.
        raw.c_lflag &= ~tcflag_t(ICANON | ECHO | ISIG | IEXTEN)
        raw.c_iflag &= ~tcflag_t(IXON | ICRNL | BRKINT | ISTRIP)
        withUnsafeMutableBytes(of: &raw.c_cc) { cc in
            cc[Int(VMIN)] = 1
            cc[Int(VTIME)] = 0
        }
        if tcsetattr(fd, TCSAFLUSH, &raw) == 0 { active = true }
    }

    public func restore() {
        guard active else { return }
        active = false
        _ = tcsetattr(fd, TCSAFLUSH, &saved)
    }

    deinit { restore() }
}

/// Writes all of `text` to a descriptor, unbuffered, so a reader on a pipe sees each line
/// as soon as it is printed.
public func writeAll(_ text: String, to fd: Int32 = 1) {
    var bytes = Array(text.utf8)
    var offset = 0
    while offset < bytes.count {
        let written = bytes.withUnsafeMutableBytes { buffer in
            write(fd, buffer.baseAddress! + offset, buffer.count - offset)
        }
        if written < 0 {
            if errno == EINTR || errno == EAGAIN { continue }
            return
        }
        offset += written
    }
}

public func isTerminal(_ fd: Int32) -> Bool { isatty(fd) == 1 }

/// Columns of the terminal on `fd`, or 80.
public func terminalColumns(_ fd: Int32 = 1) -> Int { terminalSize(fd).columns }

/// Columns and rows of the terminal on `fd`, or 80×24.
public func terminalSize(_ fd: Int32 = 1) -> (columns: Int, rows: Int) {
    var size = winsize()
    guard ioctl(fd, UInt(TIOCGWINSZ), &size) == 0, size.ws_col > 0, size.ws_row > 0 else { return (80, 24) }
    return (Int(size.ws_col), Int(size.ws_row))
}
