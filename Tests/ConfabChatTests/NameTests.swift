import Foundation
import Testing
@testable import ConfabChat

@Suite struct NameTests {
    @Test func renameRepliesAndTellsTheRooms() {
        var h = Harness()
        let ann = h.welcome(1, name: "Ann")
        h.connect(2); h.connect(3)
        h.request(1, ["type": "join", "room": "dev"])
        h.request(2, ["type": "join", "room": "dev"])
        let effects = h.request(1, ["type": "name", "name": "Anna", "id": 4])
        let reply = effects.delivered(to: 1)
        #expect(reply.count == 1)
        #expect(reply.first?.type == "renamed")
        #expect(reply.first?.user["name"] as? String == "Anna")
        #expect(reply.first?.user["id"] as? String == ann.user["id"] as? String)
        #expect(reply.first?.string("oldName") == "Ann")
        #expect(reply.first?.int("re") == 4)
        let two = effects.delivered(to: 2)
        #expect(two.map { $0.string("room") }.sorted { ($0 ?? "") < ($1 ?? "") } == ["dev", "lobby"])
        #expect(two.allSatisfy { $0.event == "rename" && $0.changes.first?["oldName"] as? String == "Ann" })
        #expect(two.first?.text.hasSuffix(#""oldName":"Ann"}]}"#) == true)
        #expect(effects.delivered(to: 3).count == 1)
        // Messages now carry the new name.
        #expect((h.say(1, "x").delivered(to: 2).first?["from"] as? JSON)?["name"] as? String == "Anna")
        // The old name is free again.
        #expect(h.request(3, ["type": "name", "name": "ann"]).types(to: 3) == ["renamed"])
    }

    @Test func namesAreUniqueCaseInsensitively() {
        var h = Harness()
        h.connect(1, name: "Ann"); h.connect(2)
        let got = h.request(2, ["type": "name", "name": "ANN", "id": "n"]).delivered(to: 2)
        #expect(got.first?.string("code") == "name_taken")
        #expect(got.first?.string("re") == "n")
        // Changing the case of one's own name is allowed.
        #expect(h.request(1, ["type": "name", "name": "ANN"]).delivered(to: 1).first?.user["name"] as? String == "ANN")
        // The same name again: a reply, nothing broadcast.
        let same = h.request(1, ["type": "name", "name": "ANN"])
        #expect(same.types(to: 1) == ["renamed"])
        #expect(same.delivered(to: 2).isEmpty)
    }

    @Test(arguments: ["", "   ", String(repeating: "x", count: 25), "a/b", "tab\there", "<script>", "emoji😀", "System", "ADMIN", " server "])
    func invalidNames(_ name: String) {
        var h = Harness()
        h.connect(1)
        #expect(h.request(1, ["type": "name", "name": name]).delivered(to: 1).first?.string("code") == "invalid_name")
    }

    @Test(arguments: [String(repeating: "x", count: 24), "Jo Ann", "a.b-c_d", "Zoë", "Пётр", "李小龙", "7", "  padded  "])
    func validNames(_ name: String) {
        var h = Harness()
        h.connect(1)
        let got = h.request(1, ["type": "name", "name": name]).delivered(to: 1).first
        #expect(got?.type == "renamed")
        #expect(got?.user["name"] as? String == name.trimmingCharacters(in: .whitespaces))
    }

    @Test func reservedNamesAreConfigurable() {
        var h = Harness(ChatConfig(reservedNames: ["root"]))
        h.connect(1)
        #expect(h.request(1, ["type": "name", "name": "Root"]).delivered(to: 1).first?.string("code") == "invalid_name")
        #expect(h.request(1, ["type": "name", "name": "admin"]).types(to: 1) == ["renamed"])
    }
}
