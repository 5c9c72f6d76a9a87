extension ChatMachine {
    /// Takes what may change while the server runs (a SIGHUP reload) from `config`: the rate
    /// limit, in force from the next request (each session's bucket keeps the tokens it has
    /// and refills at the new rate up to the new burst), and the log level. The rest of
    /// `config` needs a new machine and is not looked at.
    public mutating func reload(_ config: ChatConfig) {
        core.config.ratePerSecond = config.ratePerSecond
        core.config.rateBurst = max(1, config.rateBurst)  // clamped as at start
        core.config.rateDisconnectAfter = config.rateDisconnectAfter
        core.config.minimumLogLevel = config.minimumLogLevel
    }
}
