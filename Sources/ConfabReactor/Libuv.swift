import CLibUV

// Small helpers over libuv's C API: error text, handle casts, and
// getting a Swift object back from `handle.data` without retain/release.

/// A libuv error code as a readable string, e.g. "ECONNRESET: connection reset by peer".
func uvErrorDescription(_ code: Int32) -> String {
    let name = uv_err_name(code).map { String(cString: $0) } ?? "E\(code)"
    let message = uv_strerror(code).map { String(cString: $0) } ?? "unknown error"
    return "\(name): \(message)"
}

struct LibuvError: Error, CustomStringConvertible {
    let operation: String
    let code: Int32
    var description: String { "\(operation) failed: \(uvErrorDescription(code))" }
}

@inline(__always)
func check(_ code: Int32, _ operation: String) throws {
    if code < 0 { throw LibuvError(operation: operation, code: code) }
}

extension UnsafeMutablePointer {
    /// Views a concrete libuv handle (uv_tcp_t, uv_timer_t…) as one of its C "base classes".
    @inline(__always)
    func cast<T>(to _: T.Type) -> UnsafeMutablePointer<T> {
        UnsafeMutableRawPointer(self).assumingMemoryBound(to: T.self)
    }
}

/// Stores an unretained reference to `object` in a handle's `data` slot.
@inline(__always)
func setContext<T: AnyObject>(_ handle: UnsafeMutablePointer<uv_handle_t>, _ object: T) {
    handle.pointee.data = Unmanaged.passUnretained(object).toOpaque()
}

/// The object stored by `setContext`, or nil once it has been cleared.
@inline(__always)
func context<T: AnyObject>(_ handle: UnsafeMutablePointer<uv_handle_t>?, as _: T.Type) -> T? {
    guard let data = handle?.pointee.data else { return nil }
    return Unmanaged<T>.fromOpaque(data).takeUnretainedValue()
}

/// The name libuv gives a handle's type ("tcp", "timer"…), for messages.
func handleTypeName(_ handle: UnsafeMutablePointer<uv_handle_t>) -> String {
    uv_handle_type_name(uv_handle_get_type(handle)).map { String(cString: $0) } ?? "handle"
}

/// An IPv4 or IPv6 literal and a port as a socket address (names are not resolved here).
func socketAddress(host: String, port: Int) throws -> sockaddr_storage {
    var address = sockaddr_storage()
    try withUnsafeMutablePointer(to: &address) { storage in
        if host.contains(":") {
            try check(uv_ip6_addr(host, Int32(port), storage.cast(to: sockaddr_in6.self)), "address \(host)")
        } else {
            try check(uv_ip4_addr(host, Int32(port), storage.cast(to: sockaddr_in.self)), "address \(host)")
        }
    }
    return address
}
