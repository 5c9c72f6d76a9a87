import ConfabCodec
import ConfabConfig

/// Who a request comes from, for per-IP limits, logs and metrics: the TCP peer, unless the
/// peer is a trusted proxy (`server.trustedProxies`) that named the client in the forwarding
/// header (`server.forwardedHeader`).
///
/// The header is read right to left, from the peer: each hop a trusted proxy appended is
/// believed, and the first address not in the trusted list is the client (the rightmost
/// untrusted hop). Everything left of it was written by the client or by proxies nobody
/// vouches for, so it cannot choose its own address. A hop that is not an address
/// (`unknown`, an obfuscated name) ends the walk at the last trusted proxy: such clients
/// share that proxy's address, which is the conservative side of the per-IP limit.
struct ClientAddress: Equatable {
    /// The client's IP, in the canonical text of `IPAddress` when it parses.
    var ip: String
    /// How it was found.
    var source: Source

    enum Source: Equatable {
        /// The TCP peer itself: no header, or none believed.
        case peer
        /// A trusted proxy's header named it.
        case forwarded
        /// A header came from a peer that is not a trusted proxy, and was ignored.
        case ignoredHeader
    }

    static func resolve(peer peerIP: String, headers: HTTPHeaders, trusted: [IPNetwork], header: ForwardedHeader) -> ClientAddress {
        let peer = IPAddress(peerIP)
        let peerText = peer?.description ?? peerIP
        let values = headers.values(header == .forwarded ? "Forwarded" : "X-Forwarded-For")
        guard !values.isEmpty else { return ClientAddress(ip: peerText, source: .peer) }
        guard let peer, isTrusted(peer, trusted) else { return ClientAddress(ip: peerText, source: .ignoredHeader) }
        let hops = header == .forwarded ? ForwardedNodes.forwarded(values) : ForwardedNodes.xForwardedFor(values)
        var nearest = peer, believed = false
        for hop in hops.reversed() {
            guard let address = IPAddress(hop) else { break }
            (nearest, believed) = (address, true)
            if !isTrusted(address, trusted) { break }
        }
        return ClientAddress(ip: nearest.description, source: believed ? .forwarded : .peer)
    }

    private static func isTrusted(_ address: IPAddress, _ trusted: [IPNetwork]) -> Bool {
        trusted.contains { $0.contains(address) }
    }
}
