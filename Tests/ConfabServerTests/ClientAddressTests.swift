import ConfabCodec
import ConfabConfig
import Testing
@testable import ConfabServer

/// Which address a request counts under: the peer, or the rightmost untrusted hop of the
/// forwarding header when (and only when) the peer is a trusted proxy.
@Suite struct ClientAddressTests {
    let proxies = ["127.0.0.1", "10.0.0.0/8", "fd00::/8"].compactMap(IPNetwork.init)

    func resolve(_ peer: String, _ headers: [(String, String)], trusted: [IPNetwork]? = nil,
                 header: ForwardedHeader = .xForwardedFor) -> ClientAddress {
        ClientAddress.resolve(peer: peer, headers: HTTPHeaders(headers), trusted: trusted ?? proxies, header: header)
    }

    @Test func noHeaderIsThePeer() {
        #expect(resolve("127.0.0.1", []) == ClientAddress(ip: "127.0.0.1", source: .peer))
        #expect(resolve("::ffff:192.0.2.1", []).ip == "192.0.2.1", "one spelling per address")
    }

    @Test func aTrustedProxyIsBelieved() {
        #expect(resolve("127.0.0.1", [("X-Forwarded-For", "203.0.113.7")]) == ClientAddress(ip: "203.0.113.7", source: .forwarded))
        #expect(resolve("fd00::5", [("X-Forwarded-For", "2001:db8::7")]).ip == "2001:db8::7")
    }

    @Test func fromAnyoneElseTheHeaderIsIgnored() {
        let direct = resolve("198.51.100.9", [("X-Forwarded-For", "203.0.113.7")])
        #expect(direct == ClientAddress(ip: "198.51.100.9", source: .ignoredHeader))
        #expect(resolve("127.0.0.1", [("X-Forwarded-For", "203.0.113.7")], trusted: []).source == .ignoredHeader,
                "nobody is trusted by default")
    }

    @Test func theRightmostUntrustedHopIsTheClient() {
        // The client wrote "6.6.6.6" itself; nginx appended the address it saw, then an inner proxy.
        let chain = resolve("127.0.0.1", [("X-Forwarded-For", "6.6.6.6, 203.0.113.7, 10.1.2.3")])
        #expect(chain.ip == "203.0.113.7")
        #expect(resolve("127.0.0.1", [("X-Forwarded-For", "10.9.9.9, 10.1.2.3")]).ip == "10.9.9.9",
                "all trusted: the leftmost")
    }

    @Test func aHopThatIsNotAnAddressStopsAtTheLastTrustedProxy() {
        #expect(resolve("127.0.0.1", [("X-Forwarded-For", "203.0.113.7, unknown, 10.1.2.3")]).ip == "10.1.2.3")
        #expect(resolve("127.0.0.1", [("X-Forwarded-For", "garbage")]) == ClientAddress(ip: "127.0.0.1", source: .peer))
    }

    @Test func onlyTheConfiguredHeaderIsRead() {
        let both: [(String, String)] = [("X-Forwarded-For", "203.0.113.7"), ("Forwarded", "for=6.6.6.6")]
        #expect(resolve("127.0.0.1", both).ip == "203.0.113.7")
        #expect(resolve("127.0.0.1", both, header: .forwarded).ip == "6.6.6.6")
        #expect(resolve("127.0.0.1", [("X-Forwarded-For", "203.0.113.7")], header: .forwarded).source == .peer)
        #expect(resolve("10.0.0.1", [("Forwarded", #"for="[2001:db8::9]:4711";proto=https"#)], header: .forwarded).ip
                == "2001:db8::9")
    }
}
