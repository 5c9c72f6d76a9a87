import ConfabChat
import ConfabCodec
import ConfabConfig
import ConfabReactor
import Glibc
import Logging

/// SIGHUP: read the configuration again (file, environment and flags, as at start) and
/// apply what can change while running (`ConfigReload`); name the keys that need a
/// restart. A file that does not load leaves everything as it was, and says why.
extension ConfabServer {
    /// Reloads on SIGHUP. `load` reads the configuration as `confab serve` did at start;
    /// `applyLog` puts new log settings in force for every logger of the process.
    public func enableReload(load: @escaping () throws -> ConfabConfig, applyLog: @escaping (LogSettings) -> Void) {
        reactor.onSignal(SIGHUP) { [unowned self] _ in
            let loaded: ConfabConfig
            do {
                loaded = try load()
            } catch {
                logger.error("config reload failed: the running configuration stays", metadata: ["error": "\(error)"])
                return
            }
            reload(ConfigReload(running: config, loaded: loaded), applyLog: applyLog)
        }
    }

    func reload(_ plan: ConfigReload, applyLog: (LogSettings) -> Void) {
        if !plan.needsRestart.isEmpty {
            logger.warning("config reload: these keys need a restart to change", metadata: ["keys": "\(plan.needsRestart.joined(separator: ", "))"])
        }
        guard !plan.applied.isEmpty else {
            logger.notice("config reloaded: nothing to apply")
            return
        }
        let next = plan.next
        if next.auth != config.auth {
            do {
                try reloadAuth(next)
            } catch {
                logger.error("config reload failed: the running configuration stays", metadata: ["error": "\(error)"])
                return
            }
        }
        config = next
        applyLog(next.log)
        admission.reconfigure(next.server)
        reactor.reconfigure(Self.reactorSettings(next))
        wsLimits = Self.webSocketLimits(next)
        chat.reload(Self.chatConfig(next))
        logger.notice("config reloaded", metadata: ["applied": "\(plan.applied.joined(separator: ", "))"])
    }

    static func reactorSettings(_ config: ConfabConfig) -> ReactorSettings {
        var settings = ReactorSettings()
        settings.maxHeaderBytes = config.http.maxHeaderBytes
        settings.handshakeTimeoutMs = UInt64(config.http.handshakeTimeoutSeconds * 1000)
        settings.pingIntervalMs = UInt64(config.websocket.pingIntervalSeconds * 1000)
        settings.idleTimeoutMs = UInt64(config.websocket.idleTimeoutSeconds * 1000)
        settings.closeTimeoutMs = UInt64(config.websocket.closeTimeoutSeconds * 1000)
        settings.maxOutboundBytes = config.websocket.maxOutboundBytes
        return settings
    }

    static func webSocketLimits(_ config: ConfabConfig) -> WebSocketLimits {
        WebSocketLimits(maxFrameBytes: config.websocket.maxFrameBytes, maxMessageBytes: config.websocket.maxMessageBytes,
                        maxFragments: config.websocket.maxFragments, requireMaskedFrames: true)
    }

    static func chatConfig(_ config: ConfabConfig) -> ChatConfig {
        ChatConfig(config.chat, serverName: config.server.name, logLevel: config.log.level)
    }
}
