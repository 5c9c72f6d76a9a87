import ConfabCodec
import Testing
@testable import ConfabConfig

/// `cluster.*` and `server.reusePort`: the Redis URL is parsed where the config is read, so
/// a bad one stops start-up naming the key, and its password never appears in a message.
@Suite struct ClusterConfigTests {
    @Test func fileSetsEveryClusterKey() throws {
        let config = try load("""
            server:
              reusePort: true
            cluster:
              redis: redis://:s3cret@10.0.0.5:6380/2
              keyPrefix: "chat-eu:"
              nodeId: eu-1
              nodeTimeoutSeconds: 30
            """)
        #expect(config.server.reusePort)
        #expect(config.cluster.redis == RedisEndpoint(host: "10.0.0.5", port: 6380, password: "s3cret", db: 2))
        #expect(config.cluster.keyPrefix == "chat-eu:")
        #expect(config.cluster.nodeId == "eu-1")
        #expect(config.cluster.nodeTimeoutSeconds == 30)
    }

    @Test func environmentOverridesTheFile() throws {
        let config = try load("cluster:\n  redis: redis://file-host:6379\n", environment: [
            "CONFAB_CLUSTER_REDIS": "redis://env-host:7000",
            "CONFAB_CLUSTER_KEY_PREFIX": "x:",
            "CONFAB_CLUSTER_NODE_ID": "n-1",
            "CONFAB_CLUSTER_NODE_TIMEOUT_SECONDS": "5",
            "CONFAB_SERVER_REUSE_PORT": "true",
        ])
        #expect(config.cluster.redis == RedisEndpoint(host: "env-host", port: 7000))
        #expect(config.cluster.keyPrefix == "x:")
        #expect(config.cluster.nodeId == "n-1")
        #expect(config.cluster.nodeTimeoutSeconds == 5)
        #expect(config.server.reusePort)
    }

    @Test func emptyOrNullRedisIsOff() throws {
        let file = "cluster:\n  redis: redis://h:1\n"
        #expect(try load(file, environment: ["CONFAB_CLUSTER_REDIS": ""]).cluster.redis == nil)
        #expect(try load(file, environment: ["CONFAB_CLUSTER_REDIS": "null"]).cluster.redis == nil)
        #expect(try load("cluster:\n  redis: null\n").cluster.redis == nil)
    }

    @Test func badURLInTheFileNamesTheKeyAndHidesThePassword() throws {
        let error = try #require(loadError("cluster:\n  redis: redis://:hunter2@host:99999\n"))
        #expect(error.kind == .notAllowed)
        #expect(error.keyPath == "cluster.redis")
        #expect(error.line == 2)
        #expect(error.description == """
            config/confab.yaml:2: cluster.redis: expected null or a URL redis://[:password@]host:port[/db] \
            (the port must be 1 to 65535), found "redis://:***@host:99999"
            """)
        #expect(!error.description.contains("hunter2"))
    }

    @Test func badURLInTheEnvironmentNamesTheVariable() throws {
        let error = try #require(loadError(nil, environment: ["CONFAB_CLUSTER_REDIS": "http://host:6379"]))
        #expect(error.keyPath == "cluster.redis")
        #expect(error.source == .environment("CONFAB_CLUSTER_REDIS"))
        #expect(error.description.contains("it must start with redis://"))
    }

    @Test(arguments: ["", "has space", "tab\there", String(repeating: "k", count: 65)])
    func badKeyPrefix(_ prefix: String) throws {
        let error = try #require(loadError(nil, environment: ["CONFAB_CLUSTER_KEY_PREFIX": prefix]))
        #expect(error.keyPath == "cluster.keyPrefix")
    }

    @Test(arguments: ["a b", "n/1", "é", String(repeating: "n", count: 65)])
    func badNodeId(_ id: String) throws {
        let error = try #require(loadError(nil, environment: ["CONFAB_CLUSTER_NODE_ID": id]))
        #expect(error.keyPath == "cluster.nodeId")
    }

    @Test(arguments: ["1", "3601", "ten"])
    func badNodeTimeout(_ seconds: String) throws {
        let error = try #require(loadError(nil, environment: ["CONFAB_CLUSTER_NODE_TIMEOUT_SECONDS": seconds]))
        #expect(error.keyPath == "cluster.nodeTimeoutSeconds")
    }

    /// What `serve --help` and the docs show for a URL: never the password.
    @Test func aRedisURLRendersWithoutItsPassword() throws {
        let config = try load("cluster:\n  redis: redis://:pw@[::1]:6379/3\n")
        let key = try #require(ConfigKey.named("cluster.redis"))
        #expect(key.value(in: config) == "redis://:***@[::1]:6379/3")
        #expect(key.defaultValue == "null")
    }
}
