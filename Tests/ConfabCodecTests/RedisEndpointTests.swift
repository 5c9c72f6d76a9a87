import ConfabCodec
import Testing

@Suite struct RedisEndpointTests {
    @Test(arguments: [
        ("redis://127.0.0.1:6379", RedisEndpoint(host: "127.0.0.1", port: 6379)),
        ("redis://localhost", RedisEndpoint(host: "localhost")),
        ("REDIS://cache.internal:7000/", RedisEndpoint(host: "cache.internal", port: 7000)),
        ("redis://:secret@h:6380/5", RedisEndpoint(host: "h", port: 6380, password: "secret", db: 5)),
        ("redis://app:secret@h:6380", RedisEndpoint(host: "h", port: 6380, username: "app", password: "secret")),
        // The last @ ends the password; escapes are decoded.
        ("redis://:p@ss/w:rd@h:1", RedisEndpoint(host: "h", port: 1, password: "p@ss/w:rd")),
        ("redis://:p%40%25@h", RedisEndpoint(host: "h", password: "p@%")),
        ("redis://[::1]:6379/0", RedisEndpoint(host: "::1", port: 6379)),
        ("redis://[fe80::1]", RedisEndpoint(host: "fe80::1")),
    ])
    func goodURLs(_ url: String, _ expected: RedisEndpoint) throws {
        #expect(try RedisEndpoint.parse(url) == expected)
    }

    @Test(arguments: [
        ("http://h:6379", "it must start with redis://"),
        ("rediss://h:6379", "TLS (rediss://) is not supported"),
        ("redis://", "the host is missing or not a host name or IP address"),
        ("redis://:6379", "the host is missing or not a host name or IP address"),
        ("redis://h:0", "the port must be 1 to 65535"),
        ("redis://h:65536", "the port must be 1 to 65535"),
        ("redis://h:port", "the port must be 1 to 65535"),
        ("redis://h:", "the port must be 1 to 65535"),
        ("redis://h:6379/x", "the database after / must be a number from 0"),
        ("redis://h:6379/-1", "the database after / must be a number from 0"),
        ("redis://h:6379/0/1", "the database after / must be a number from 0"),
        ("redis://h:6379?db=1", "query parameters and fragments are not supported"),
        ("redis://secret@h", "the part before @ must be :password or user:password"),
        ("redis://:@h", "the password after : is empty"),
        ("redis://:%zz@h", "the user or password has a bad %-escape"),
        ("redis://::1:6379", "the host is missing or not a host name or IP address"),
        ("redis://[::1", "the IPv6 address has no closing ]"),
        ("redis://[::1]x", "only :port may follow the IPv6 address"),
        ("redis://[host]:1", "the address in [] is not an IPv6 address"),
        ("redis://a b:1", "the host is missing or not a host name or IP address"),
    ])
    func badURLsSayWhatIsWrong(_ url: String, _ reason: String) {
        #expect(throws: RedisEndpoint.InvalidURL(reason: reason)) { try RedisEndpoint.parse(url) }
    }

    @Test func thePasswordNeverShows() throws {
        #expect(try RedisEndpoint.parse("redis://:pw@h:1/2").description == "redis://:***@h:1/2")
        #expect(try RedisEndpoint.parse("redis://u:pw@[::1]:1").description == "redis://u:***@[::1]:1/0")
        #expect(try RedisEndpoint.parse("redis://h").description == "redis://h:6379/0")
        #expect(RedisEndpoint.redacted("redis://:pw@h:0") == "redis://:***@h:0")
        #expect(RedisEndpoint.redacted("redis://u:p@w@h") == "redis://u:***@h")
        #expect(RedisEndpoint.redacted("redis://h:1") == "redis://h:1")
    }
}
