import Testing
@testable import ConfabConfig

@Suite struct IPAddressTests {
    @Test(arguments: [
        ("127.0.0.1", "127.0.0.1"), ("0.0.0.0", "0.0.0.0"), ("255.255.255.255", "255.255.255.255"),
        ("::1", "::1"), ("::", "::"), ("2001:DB8::1", "2001:db8::1"), ("1::", "1::"),
        ("1:2:3:4:5:6:7:8", "1:2:3:4:5:6:7:8"), ("fe80:0:0:0:0:0:0:1", "fe80::1"),
        ("1:0:0:2:0:0:0:3", "1:0:0:2::3"),
        // IPv4-mapped IPv6 is the IPv4 address: a dual-stack listener reports peers that way.
        ("::ffff:10.1.2.3", "10.1.2.3"), ("::FFFF:a01:203", "10.1.2.3"),
    ])
    func parses(text: String, shown: String) throws {
        let address = try #require(IPAddress(text))
        #expect(address.description == shown)
        #expect(IPAddress(shown) == address)
    }

    @Test(arguments: [
        "", "1.2.3", "1.2.3.4.5", "256.1.1.1", "01.2.3.4", "1.2.3.-4", "1.2.3.+4", "a.b.c.d", " 1.2.3.4",
        ":", ":::", "1:2", ":1:2:3:4:5:6:7", "1:2:3:4:5:6:7:", "1::2::3", "1:2:3:4:5:6:7:8:9", "12345::",
        "1:2:3:4:5:6:7::8", "g::1", "-1::", "fe80::1%eth0", "[::1]", "1.2.3.4:80", "::1.2.3", "1.2.3.4::",
    ])
    func refuses(text: String) {
        #expect(IPAddress(text) == nil, "\(text)")
    }
}

@Suite struct IPNetworkTests {
    @Test func ipv4Networks() throws {
        let net = try #require(IPNetwork("10.0.0.0/8"))
        #expect(net.contains(try #require(IPAddress("10.200.3.4"))))
        #expect(net.contains(try #require(IPAddress("::ffff:10.0.0.1"))))
        #expect(!net.contains(try #require(IPAddress("11.0.0.1"))))
        #expect(!net.contains(try #require(IPAddress("::a00:1"))), "an IPv6 address is not in an IPv4 network")
        let host = try #require(IPNetwork("192.168.1.7"))
        #expect(host.contains(try #require(IPAddress("192.168.1.7"))))
        #expect(!host.contains(try #require(IPAddress("192.168.1.8"))))
        let all = try #require(IPNetwork("0.0.0.0/0"))
        #expect(all.contains(try #require(IPAddress("8.8.8.8"))))
        #expect(!all.contains(try #require(IPAddress("2001:db8::1"))))
    }

    @Test func ipv6Networks() throws {
        let net = try #require(IPNetwork("fd00::/8"))
        #expect(net.contains(try #require(IPAddress("fd12:3456::1"))))
        #expect(!net.contains(try #require(IPAddress("fe80::1"))))
        let odd = try #require(IPNetwork("2001:db8:abcd:12::/63"))
        #expect(odd.contains(try #require(IPAddress("2001:db8:abcd:13::ffff"))))
        #expect(!odd.contains(try #require(IPAddress("2001:db8:abcd:14::"))))
        let loopback = try #require(IPNetwork("::1"))
        #expect(loopback.contains(try #require(IPAddress("::1"))))
        #expect(!loopback.contains(try #require(IPAddress("127.0.0.1"))))
    }

    @Test(arguments: ["10.0.0.0/33", "::/129", "10.0.0.0/", "10.0.0.0/+8", "10.0.0.0/-1", "/8", "10.0.0.0/8/8", "x/8"])
    func refuses(text: String) {
        #expect(IPNetwork(text) == nil, "\(text)")
    }
}

@Suite struct TrustedProxiesConfigTests {
    @Test func defaultsTrustNobody() {
        #expect(ConfabConfig().server.trustedProxies.isEmpty)
        #expect(ConfabConfig().server.forwardedHeader == .xForwardedFor)
    }

    @Test func listedInYAML() throws {
        let config = try load("""
            server:
              trustedProxies: [127.0.0.1, 10.0.0.0/8, "fd00::/8"]
              forwardedHeader: forwarded
            """)
        #expect(config.server.trustedProxies.map(\.description) == ["127.0.0.1", "10.0.0.0/8", "fd00::/8"])
        #expect(config.server.forwardedHeader == .forwarded)
        #expect(try load("server:\n  trustedProxies: 127.0.0.1\n").server.trustedProxies.count == 1)
        #expect(try load("server:\n  trustedProxies: []\n").server.trustedProxies.isEmpty)
    }

    @Test func fromTheEnvironment() throws {
        let config = try load("", environment: [
            "CONFAB_SERVER_TRUSTED_PROXIES": "127.0.0.1, ::1",
            "CONFAB_SERVER_FORWARDED_HEADER": "Forwarded",
        ])
        #expect(config.server.trustedProxies.map(\.description) == ["127.0.0.1", "::1"])
        #expect(config.server.forwardedHeader == .forwarded)
    }

    @Test func aBadEntryNamesTheKeyTheLineAndTheEntry() throws {
        let error = try #require(loadError("server:\n  port: 1\n  trustedProxies: [127.0.0.1, 10.0.0.0/40]\n"))
        #expect(error.keyPath == "server.trustedProxies")
        #expect(error.line == 3)
        #expect(error.description.contains("\"10.0.0.0/40\""), "\(error)")
        #expect(error.description.contains("CIDR"), "\(error)")
    }

    @Test func anUnknownHeaderIsRefused() throws {
        let error = try #require(loadError("server:\n  forwardedHeader: x-real-ip\n"))
        #expect(error.keyPath == "server.forwardedHeader")
    }
}
