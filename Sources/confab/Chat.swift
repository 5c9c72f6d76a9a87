import ArgumentParser
import ConfabClient
import ConfabReactor
import Foundation
import Logging

struct Chat: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Chat from the terminal (or a script: lines on stdin are sent).",
        discussion: """
            Lines you type are sent to your current room; lines starting with / are commands the
            server runs (/join ROOM, /leave, /rooms, /users, /name NEW, /me ACTION, /help).
            /quit, Ctrl-D or Ctrl-C leave (close 1000). A dropped connection is resumed with the
            session token; messages are never shown twice.
            With stdin from a pipe, end of input leaves once the sent lines are acknowledged.
            With --token (or $CONFAB_TOKEN) you connect as that token's account; a refused
            token (401: expired, bad signature...) ends the client with the server's reason.
            Exit codes: 0 normal, 1 connection failed or lost, 64 usage.
            """)

    @Argument(help: "Server WebSocket URL, e.g. ws://127.0.0.1:8080/ws")
    var url: String

    @Option(name: .long, help: "Name to ask for (?name=).")
    var name: String?

    @Option(name: .long, help: "Room to join after the welcome.")
    var room: String?

    @Flag(name: .long, help: "Full-screen layout: messages above, input below, the room's users on the side (terminals only).")
    var tui = false

    @Option(name: .long, help: ArgumentHelp(
        "Signed token (JWT) of an account, sent as Authorization: Bearer. Default: $\(Self.tokenVariable), which other users cannot read in ps.",
        valueName: "jwt"))
    var token: String?

    /// Read by `confab chat` only; `confab serve` ignores it rather than refusing it as unknown.
    static let tokenVariable = "CONFAB_TOKEN"

    func run() throws {
        let parsed: ServerURL
        do { parsed = try ServerURL(parsing: url) } catch {
            throw ValidationError("\(error)")
        }
        let address: ServerAddress
        do { address = try ServerAddress(host: parsed.host, port: parsed.port) } catch {
            FileHandle.standardError.write(Data("confab chat: cannot resolve \(parsed.host)\n".utf8))
            throw ExitCode(1)
        }
        let reactor = try makeClientReactor()
        let environmentToken = ProcessInfo.processInfo.environment[Self.tokenVariable].flatMap { $0.isEmpty ? nil : $0 }
        let client = ChatClient(reactor: reactor, url: parsed, address: address, name: name, room: room, tui: tui,
                                token: token ?? environmentToken)
        let status = client.run()
        if status != 0 { throw ExitCode(status) }
    }
}

/// A reactor for a client: quiet logs (the client reports on its own terms).
func makeClientReactor() throws -> Reactor {
    var logger = Logger(label: "confab-client")
    logger.logLevel = .critical
    return try Reactor(settings: ReactorSettings(), logger: logger)
}
