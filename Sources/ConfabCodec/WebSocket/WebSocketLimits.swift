/// Bounds on what one connection may make us buffer. Every check happens on
/// the frame header, before any payload byte is stored.
public struct WebSocketLimits: Sendable, Equatable {
    /// Largest payload of one frame.
    public var maxFrameBytes: Int
    /// Largest reassembled message (sum of its fragments).
    public var maxMessageBytes: Int
    /// Most frames one message may be split into; stops floods of tiny
    /// fragments whose per-frame cost dwarfs their bytes.
    public var maxFragments: Int
    /// Servers must refuse unmasked frames (RFC 6455 §5.1). When false, both
    /// masked and unmasked frames are accepted (for tests and clients).
    public var requireMaskedFrames: Bool
    /// Also accept the close codes registered after RFC 6455 (1012 service restart, 1013
    /// try again later, 1014 bad gateway) in a peer's close. Off on the server side, where
    /// `CloseCode.isValidReceived` is the rule; a client turns it on, because a restarting
    /// server (Confab among them) says 1012.
    public var acceptsRegisteredCloseCodes: Bool

    /// Defaults suit chat: 64 KiB covers any chat message with room to spare
    /// while keeping the worst case per connection small; 128 fragments is far
    /// more than any real client uses.
    public init(
        maxFrameBytes: Int = 64 * 1024,
        maxMessageBytes: Int = 64 * 1024,
        maxFragments: Int = 128,
        requireMaskedFrames: Bool = true,
        acceptsRegisteredCloseCodes: Bool = false
    ) {
        self.maxFrameBytes = maxFrameBytes
        self.maxMessageBytes = maxMessageBytes
        self.maxFragments = maxFragments
        self.requireMaskedFrames = requireMaskedFrames
        self.acceptsRegisteredCloseCodes = acceptsRegisteredCloseCodes
    }

    /// What the conformance suites (Autobahn) need: 16 MiB messages, 65,536 fragments.
    public static let conformance = WebSocketLimits(
        maxFrameBytes: 16 * 1024 * 1024,
        maxMessageBytes: 16 * 1024 * 1024,
        maxFragments: 65_536,
        requireMaskedFrames: true
    )
}
