import ArgumentParser
import ConfabServer

struct Confab: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "confab",
        abstract: "A real-time chat server: WebSocket rooms on one libuv event loop.",
        version: ConfabVersion.current,
        subcommands: [Serve.self, Chat.self, Load.self],
        defaultSubcommand: nil)
}

/// Exit codes, after sysexits.h, so scripts can tell a bad config from a busy port.
enum ExitStatus {
    /// A command-line usage error (ArgumentParser's own code).
    static let usage: Int32 = 64
    /// The server could not listen (address in use, permission denied).
    static let unavailable: Int32 = 69
    /// The configuration is invalid: the message names the key.
    static let config: Int32 = 78
}
