import CLibUV
import Glibc

/// A free port held for processes that will listen on it with SO_REUSEPORT: a socket bound
/// with the option that never listens, so no connection ever waits on it, while the port
/// stays ours (only sockets of this user with SO_REUSEPORT may bind it) for as long as the
/// reservation lives, even in a moment when none of those processes is listening.
public final class PortReservation {
    public let port: Int
    private let fd: Int32

    /// Binds `host` (an IP address) on a free port.
    public init(host: String) throws {
        var storage = try socketAddress(host: host, port: 0)
        let isIPv6 = host.contains(":")
        let fd = socket(isIPv6 ? AF_INET6 : AF_INET, Int32(SOCK_STREAM.rawValue | SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw LibuvError(operation: "socket", code: -errno) }
        var on: Int32 = 1
        var length = socklen_t(isIPv6 ? MemoryLayout<sockaddr_in6>.size : MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &storage) { pointer -> Int32 in
            let address = UnsafeMutableRawPointer(pointer).assumingMemoryBound(to: sockaddr.self)
            guard setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &on, socklen_t(MemoryLayout<Int32>.size)) == 0,
                  bind(fd, address, length) == 0, getsockname(fd, address, &length) == 0 else { return -errno }
            return 0
        }
        guard bound == 0 else {
            close(fd)
            throw LibuvError(operation: "reserve a port on \(host)", code: bound)
        }
        self.fd = fd
        port = Int(UInt16(bigEndian: withUnsafeBytes(of: storage) { $0.load(fromByteOffset: 2, as: UInt16.self) }))
    }

    deinit { close(fd) }
}
