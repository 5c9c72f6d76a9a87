// swift-tools-version:6.0
import PackageDescription

// Each file imports what it uses (members included), Foundation and Logging alike.
let explicitImports: [SwiftSetting] = [.enableUpcomingFeature("MemberImportVisibility")]

let package = Package(
    name: "confab",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "confab", targets: ["confab"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
        .package(url: "https://github.com/HdrHistogram/hdrhistogram-swift", from: "0.2.0"),
        // Signature checks of JWTs (HMAC, P-256, RSA through _CryptoExtras); BoringSSL inside.
        .package(url: "https://github.com/apple/swift-crypto", "3.12.3"..<"5.0.0"),
    ],
    targets: [
        // libuv, through Debian's libuv1-dev. Only ConfabReactor imports it.
        .systemLibrary(
            name: "CLibUV",
            pkgConfig: "libuv",
            providers: [.apt(["libuv1-dev"])]
        ),
        // hiredis and its libuv adapter, through Debian's libhiredis-dev (0.14). Its shim
        // includes CLibUV's, so both modules share one set of libuv types. Only ConfabReactor
        // imports it.
        .systemLibrary(
            name: "CHiredis",
            pkgConfig: "hiredis",
            providers: [.apt(["libhiredis-dev"])]
        ),
        // Pure: HTTP/1.1 request parsing, RFC 6455 handshake and frames, and the small values the
        // layers above share (connection ids, reconnect backoff, Redis endpoints). No I/O.
        .target(name: "ConfabCodec"),
        // Pure: the wire protocol. Typed requests and server messages, and the dialects that
        // turn bytes into the former and the latter into bytes (protocol v1 JSON, lines, PixIDE).
        .target(name: "ConfabProtocol", dependencies: ["ConfabCodec"], swiftSettings: explicitImports),
        // Pure: the room state machine, on typed requests and messages. No sockets, clocks or randomness.
        .target(name: "ConfabChat", dependencies: ["ConfabCodec", "ConfabProtocol"], swiftSettings: explicitImports),
        // Pure: signed tokens (JWT) checked against configured keys, with the clock passed in.
        .target(name: "ConfabAuth", dependencies: [
            "ConfabCodec", "ConfabProtocol",
            .product(name: "Crypto", package: "swift-crypto"),
            .product(name: "_CryptoExtras", package: "swift-crypto"),
        ], swiftSettings: explicitImports),
        // Pure: configuration value, YAML/env/flag layering and validation.
        .target(name: "ConfabConfig", dependencies: ["ConfabCodec", "ConfabAuth", .product(name: "Yams", package: "Yams")]),
        // The only code that calls libuv (and hiredis): loop, TCP, upgrade, WebSocket I/O,
        // timers, signals, the Redis client.
        .target(name: "ConfabReactor", dependencies: [
            "CLibUV", "CHiredis", "ConfabCodec",
            .product(name: "Logging", package: "swift-log"),
        ], swiftSettings: explicitImports),
        // Wiring: config -> reactor -> room state machine; static files; health.
        .target(name: "ConfabServer", dependencies: [
            "ConfabReactor", "ConfabCodec", "ConfabProtocol", "ConfabChat", "ConfabConfig", "ConfabAuth",
            .product(name: "Logging", package: "swift-log"),
            .product(name: "CoreMetrics", package: "swift-metrics"),
            .product(name: "Prometheus", package: "swift-prometheus"),
        ], swiftSettings: explicitImports),
        // Confab's own clients on the same reactor and codec: `confab chat` and `confab load`.
        .target(name: "ConfabClient", dependencies: [
            "ConfabReactor", "ConfabCodec", "ConfabProtocol",
            .product(name: "Histogram", package: "hdrhistogram-swift"),
        ]),  // Not explicitImports: Glibc's termios resolves to CLibUV's copy, which only the reactor may import.
        .executableTarget(name: "confab", dependencies: [
            "ConfabServer", "ConfabConfig", "ConfabClient",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
            .product(name: "Logging", package: "swift-log"),
        ]),
        // Micro-benchmarks: `swift run -c release confab-bench`.
        .executableTarget(name: "ConfabBench", dependencies: ["ConfabCodec", "ConfabProtocol", "ConfabChat"]),
        .testTarget(name: "ConfabCodecTests", dependencies: ["ConfabCodec"]),
        .testTarget(name: "ConfabProtocolTests", dependencies: ["ConfabProtocol"]),
        .testTarget(name: "ConfabChatTests", dependencies: ["ConfabChat", "ConfabCodec", "ConfabProtocol"]),
        .testTarget(name: "ConfabConfigTests", dependencies: ["ConfabConfig", "ConfabCodec"]),
        .testTarget(name: "ConfabAuthTests", dependencies: [
            "ConfabAuth",
            .product(name: "Crypto", package: "swift-crypto"),
            .product(name: "_CryptoExtras", package: "swift-crypto"),
        ]),
        .testTarget(name: "ConfabClientTests", dependencies: ["ConfabClient", "ConfabProtocol"]),
        .testTarget(name: "ConfabReactorTests", dependencies: [
            "ConfabReactor", "ConfabCodec",
            .product(name: "Logging", package: "swift-log"),
        ], swiftSettings: [.enableUpcomingFeature("MemberImportVisibility")]),
        // A real ConfabServer on a real reactor, with clients on the same loop.
        .testTarget(name: "ConfabServerTests", dependencies: [
            "ConfabServer", "ConfabConfig", "ConfabReactor", "ConfabCodec", "ConfabProtocol", "ConfabChat",
            .product(name: "Logging", package: "swift-log"),
        ]),
    ]
)
