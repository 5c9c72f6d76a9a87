import ConfabCodec

/// The partial line of a line-mode connection.
struct LineState {
    let maxLineBytes: Int
    var partial: [UInt8] = []
    /// Inside a line that already went over the limit: drop bytes until its newline.
    var discarding = false
}

extension Reactor {
    /// Splits input into lines (LF or CRLF) for the delegate, bounded by `maxLineBytes`:
    /// a peer that never sends a newline costs at most that much memory. The line state
    /// is out of the connection meanwhile and goes back only while the session lasts.
    func readLines(_ connection: Connection, _ bytes: UnsafeRawBufferPointer) {
        guard case .lines(var state) = connection.takeInput(), case .server(let endpoint) = connection.session else {
            assertionFailure("readLines: connection \(connection.id) in .lines has no line state or session")
            return
        }
        var start = 0
        for index in 0..<bytes.count where bytes[index] == UInt8(ascii: "\n") {
            appendBounded(&state, UnsafeRawBufferPointer(rebasing: bytes[start..<index]), connection, endpoint)
            start = index + 1
            if state.discarding {
                state.discarding = false
            } else {
                if state.partial.last == UInt8(ascii: "\r") { state.partial.removeLast() }
                delegate?.received(state.partial, binary: false, connection: connection.id, endpoint: endpoint)
            }
            state.partial.removeAll(keepingCapacity: state.partial.capacity <= 1024)
            guard connection.phase == .lines else { return }  // The delegate closed it.
        }
        appendBounded(&state, UnsafeRawBufferPointer(rebasing: bytes[start...]), connection, endpoint)
        guard connection.phase == .lines else { return }
        connection.restoreInput(.lines(state))
    }

    private func appendBounded(_ state: inout LineState, _ bytes: UnsafeRawBufferPointer, _ connection: Connection, _ endpoint: Int) {
        guard !state.discarding, !bytes.isEmpty else { return }
        if state.partial.count + bytes.count > state.maxLineBytes {
            state.discarding = true
            state.partial.removeAll()
            delegate?.lineTooLong(connection.id, endpoint: endpoint)
            return
        }
        state.partial.append(contentsOf: bytes)
    }
}
