import ConfabProtocol
import Testing
@testable import ConfabChat

@Suite struct RenderingTests {
    @Test func theLineDialectRendersWhatTheMachineSends() {
        var machine = ChatMachine(config: ChatConfig(), random: SplitMix64(seed: 1))
        let welcome = machine.handle(.connected(1, ConnectRequest(name: "Alice"), now: 0))
        let first = welcome.compactMap { effect -> OutboundMessage? in
            if case .send(_, let message) = effect { return message }
            return nil
        }.first
        #expect(first.map { ChatText.render($0.message).map(\.text) } == ["-- Welcome to Confab, Alice! You are in lobby. Type /help for commands."])
    }
}
