/// RFC 6455 §7.4 status codes used by Confab.
public enum CloseCode {
    public static let normalClosure: UInt16 = 1000
    public static let goingAway: UInt16 = 1001
    public static let protocolError: UInt16 = 1002
    public static let unsupportedData: UInt16 = 1003
    public static let invalidPayload: UInt16 = 1007
    public static let policyViolation: UInt16 = 1008
    public static let messageTooBig: UInt16 = 1009
    public static let mandatoryExtension: UInt16 = 1010
    public static let internalError: UInt16 = 1011
    /// "Service restart" (IANA): the server goes away and comes back; reconnect after a moment.
    public static let serviceRestart: UInt16 = 1012
    public static let tryAgainLater: UInt16 = 1013

    /// Whether a peer may send `code` in a close frame. Follows the issue's
    /// rule: 1000–1003, 1007–1011 and 3000–4999. 1004–1006 and 1015 must never
    /// be sent (§7.4.1); 1012–1014 are IANA-registered later but not part of
    /// RFC 6455, and 0–999 / 1016–2999 are unassigned, so all of those are
    /// refused with 1002. (We may still *send* 1012 and 1013 ourselves; a peer that echoes
    /// our 1012 has still answered our close, see `WebSocketReader.peerClosedAfterError`.)
    public static func isValidReceived(_ code: UInt16) -> Bool {
        switch code {
        case 1000...1003, 1007...1011, 3000...4999: return true
        default: return false
        }
    }
}
