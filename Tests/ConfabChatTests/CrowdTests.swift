import ConfabCodec
import ConfabProtocol
import Testing
@testable import ConfabChat

/// Presence in crowds: coalescing, the large-room mode and its hysteresis, paging, lookup,
/// and the room list's watchers.
@Suite struct CrowdTests {
    static func crowd(max: Int = 4, interval: Int = 1000) -> ChatConfig {
        ChatConfig(roomCapacity: 100_000, ratePerSecond: 1_000_000, rateBurst: 1_000_000,
                   presenceFullListMax: max, presenceIntervalMs: interval)
    }

    @Test func aTurnsChangesGoOutAsOneMessage() {
        var h = Harness()
        h.connect(1)
        var effects: [ChatEffect] = []
        for c in 2...4 { h.machine.handle(.connected(ConnectionID(c), ConnectRequest(name: "P\(c)"), now: h.now), into: &effects) }
        h.machine.handle(.disconnected(3, .goodbye, now: h.now), into: &effects)
        #expect(effects.delivered(to: 1).isEmpty)
        let flushed = h.machine.handle(.flush(now: h.now))
        let got = flushed.delivered(to: 1)
        #expect(got.map(\.type) == ["presence"])
        #expect(got.first?.changes.map { "\($0["event"] ?? "") \(($0["user"] as? JSON)?["name"] ?? "")" }
                == ["join P2", "join P3", "join P4", "leave P3"])
        // Several users' changes: everyone gets the same bytes, the newcomers included.
        #expect(flushed.types(to: 2) == ["presence"] && flushed.types(to: 4) == ["presence"])
        #expect(flushed.count == 1)
        h.check()
    }

    @Test func aLargeRoomSendsCountsNotPeople() {
        var h = Harness(Self.crowd(max: 4))
        for c in 1...4 { h.connect(ConnectionID(c)) }
        #expect(h.machine.isLarge("lobby") == false)
        let fifth = h.connect(5)
        #expect(h.machine.isLarge("lobby") == true)
        // The joiner: a page in count mode; the others: an occupancy, not a presence.
        let users = fifth.delivered(to: 5)[1]
        #expect(users.string("mode") == "count" && users.int("count") == 5)
        #expect(fifth.types(to: 1) == ["occupancy"])
        #expect(fifth.delivered(to: 1).first?.int("count") == 5)
        // Within the interval, more arrivals wait; after it, one occupancy with the count and who came.
        #expect(h.connect(6, name: "Six").types(to: 1).isEmpty)
        #expect(h.connect(7, name: "Seven").types(to: 1).isEmpty)
        let later = h.tick(after: 1000).delivered(to: 1)
        #expect(later.map(\.type) == ["occupancy"])
        #expect(later.first?.int("count") == 7)
        #expect(names(later.first?["recent"]) == ["Seven", "Six"])
        // Nothing changed: nothing sent.
        #expect(h.tick(after: 5000).delivered(to: 1).isEmpty)
        // Renames in a large room are nobody's business but the renamer's.
        #expect(h.request(6, ["type": "name", "name": "Sechs"]).delivered(to: 1).isEmpty)
        h.check()
    }

    @Test func hysteresisKeepsARoomAtTheThresholdFromFlapping() {
        var h = Harness(Self.crowd(max: 8))  // large above 8, small again below 6
        for c in 1...9 { h.connect(ConnectionID(c)) }
        #expect(h.machine.isLarge("lobby") == true)
        h.goodbye(9); h.connect(10); h.goodbye(10); h.goodbye(8)
        #expect(h.machine.isLarge("lobby") == true)   // 7 members: still counted
        h.goodbye(7)
        #expect(h.machine.isLarge("lobby") == true)   // 6
        let small = h.goodbye(6)                      // 5 < 6: small again
        #expect(h.machine.isLarge("lobby") == false)
        let full = small.delivered(to: 1)
        #expect(full.map(\.type) == ["users"])
        #expect(full.first?.string("mode") == "full" && full.first?.int("count") == 5)
        #expect(names(full.first?["users"]).count == 5)
        // Small again: presence as before.
        #expect(h.connect(11, name: "Eleven").delivered(to: 1).first?.event == "join")
        h.check()
    }

    @Test func pagingSeesEveryStayingMemberExactlyOnceWhilePeopleComeAndGo() {
        var h = Harness(Self.crowd(max: 10))
        for c in 1...200 { h.connect(ConnectionID(c)) }
        var seen: [String: Int] = [:]
        var cursor: String?
        var next: ConnectionID = 201
        var leaving: ConnectionID = 2
        var pages = 0
        repeat {
            var request: JSON = ["type": "users", "limit": 17]
            if let cursor { request["cursor"] = cursor }
            let reply = h.request(1, request).delivered(to: 1).first
            #expect(reply?.type == "users")
            for user in (reply?["users"] as? [JSON]) ?? [] { seen[user["id"] as? String ?? "", default: 0] += 1 }
            cursor = reply?.string("next")
            // Between pages: two arrive, one of the early members leaves.
            h.connect(next); h.connect(next + 1); next += 2
            h.goodbye(leaving); leaving += 3
            pages += 1
        } while cursor != nil && pages < 100
        #expect(cursor == nil)
        #expect(seen.values.allSatisfy { $0 == 1 })
        let stayed = (1...200).map(ConnectionID.init).filter { $0 < 2 || $0 >= leaving || ($0 - 2) % 3 != 0 }
        let stayedIDs = Set(stayed.compactMap { h.machine.userID(of: $0) })
        #expect(stayedIDs.isSubset(of: Set(seen.keys)))
        h.check()
    }

    @Test func joinersOfALargeRoomSeeTheFirstPageAsItIsNow() {
        var h = Harness(Self.crowd(max: 3))
        for c in 1...52 { h.connect(ConnectionID(c), name: "U\(c)") }
        func firstPage(of connection: ConnectionID) -> (names: [String], next: String?) {
            let users = h.connect(connection, name: "U\(connection)").delivered(to: connection).first { $0.type == "users" }
            return (names(users?["users"]), users?.string("next"))
        }
        // `names` sorts; the sets say who is on the page.
        let first = firstPage(of: 53)
        #expect(Set(first.names) == Set((1...50).map { "U\($0)" }) && first.next != nil)
        #expect(firstPage(of: 54).names == first.names)
        h.request(7, ["type": "name", "name": "Seven"])
        let renamed = Set(firstPage(of: 55).names)
        #expect(renamed.contains("Seven") && !renamed.contains("U7"))
        h.goodbye(2)
        #expect(Set(firstPage(of: 56).names) == Set(["U1", "Seven"] + (3...51).filter { $0 != 7 }.map { "U\($0)" }))
        for c in 51...56 { h.goodbye(ConnectionID(c)) }  // nobody after the page now
        let last = firstPage(of: 57)
        #expect(last.names.count == 50 && last.names.contains("U57") && last.next == nil)
        h.check()
    }

    @Test func lookupFindsOneNameInAnyRoomSize() {
        var h = Harness(Self.crowd(max: 3))
        h.connect(1, name: "Ann"); h.connect(2, name: "Bob"); h.connect(3); h.connect(4)
        h.request(2, ["type": "join", "room": "dev"])
        let found = h.request(3, ["type": "users", "name": "ann", "id": 1]).delivered(to: 3).first
        #expect(names(found?["users"]) == ["Ann"])
        #expect(found?.string("name") == "ann" && found?.int("count") == 4 && found?.string("mode") == "count")
        let elsewhere = h.request(3, ["type": "users", "room": "dev", "name": "Ann"]).delivered(to: 3).first?["users"]
        #expect(names(elsewhere) == [])
        let nobody = h.request(3, ["type": "users", "name": "nobody"]).delivered(to: 3).first?["users"]
        #expect(names(nobody) == [])
        let command = h.say(3, "/find BOB").delivered(to: 3).first
        #expect(names(command?["users"]) == ["Bob"])
    }

    @Test func badCursorsAndLimitsAreRequestErrors() {
        var h = Harness(Self.crowd())
        h.connect(1)
        #expect(h.request(1, ["type": "users", "cursor": "x"]).delivered(to: 1).first?.string("code") == "invalid_request")
        #expect(h.request(1, ["type": "users", "limit": 0]).delivered(to: 1).first?.string("code") == "invalid_request")
        #expect(h.request(1, ["type": "users", "limit": 201]).delivered(to: 1).first?.string("code") == "invalid_request")
        #expect(h.request(1, ["type": "users", "limit": "5"]).delivered(to: 1).first?.string("code") == "invalid_request")
        #expect(h.request(1, ["type": "rooms", "watch": 1]).delivered(to: 1).first?.string("code") == "invalid_request")
    }

    @Test func watchersGetRoomListChangesAtMostOncePerInterval() {
        var h = Harness(Self.crowd())
        h.connect(1); h.connect(2)
        let snapshot = h.request(1, ["type": "rooms", "watch": true]).delivered(to: 1)
        #expect(snapshot.map(\.type) == ["rooms"])
        let created = h.request(2, ["type": "join", "room": "dev"])
        let change = created.delivered(to: 1).filter { $0.type == "roomsChanged" }
        #expect(change.count == 1)
        #expect((change.first?["rooms"] as? [JSON])?.compactMap { $0["name"] as? String } == ["dev"])
        // Within the interval: held back, then sent with the removal.
        #expect(h.request(2, ["type": "leave", "room": "dev"]).delivered(to: 1).filter { $0.type == "roomsChanged" }.isEmpty)
        let later = h.tick(after: 1000).delivered(to: 1)
        #expect(later.first?["removed"] as? [String] == ["dev"])
        // Not watching: nothing.
        #expect(h.connect(3).delivered(to: 2).filter { $0.type == "roomsChanged" }.isEmpty)
        h.request(1, ["type": "rooms", "watch": false])
        h.tick(after: 1000)
        #expect(h.connect(4).delivered(to: 1).filter { $0.type == "roomsChanged" }.isEmpty)
        #expect(h.tick(after: 1000).delivered(to: 1).isEmpty)
    }
}

@Suite struct MemberLogTests {
    @Test func pagesAreStableAcrossRemovalsAndCompaction() {
        var log = MemberLog()
        for key in 1...1000 as ClosedRange<SessionKey> { log.insert(key) }
        var seen: [SessionKey] = []
        var cursor: UInt64 = 0
        while true {
            let page = log.page(after: cursor, limit: 64)
            seen += page.keys
            // Remove far ahead and behind: compaction moves entries, cursors still hold.
            for key in page.keys where key % 2 == 0 { log.remove(key + 500 > 1000 ? key : key + 500) }
            guard let next = page.next else { break }
            cursor = next
        }
        #expect(Set(seen).count == seen.count)
        #expect(log.count == log.all.count)
        #expect(log.all == log.all.sorted())
    }

    @Test func theFirstPageIsEncodedOnceWhileOnlyJoinsComeAfterIt() {
        var log = MemberLog()
        for key in 1...4 as ClosedRange<SessionKey> { log.insert(key) }
        var encoded = 0
        func page(_ changes: UInt64 = 0) -> MemberLog.FirstPage {
            log.firstPage(limit: 3, userChanges: changes) { keys in encoded += 1; return keys.map { UInt8($0) } }
        }
        #expect(page().keys == [1, 2, 3] && page().next == 3 && encoded == 1)
        log.insert(5)                                   // joins after a closed page: kept
        #expect(page().keys == [1, 2, 3] && encoded == 1)
        _ = page(1)                                     // a rename somewhere: made again
        #expect(encoded == 2)
        log.remove(2)                                   // one on the page leaves
        #expect(page(1).keys == [1, 3, 4] && encoded == 3)
        log.remove(5)                                   // the last after the page leaves: no next now
        #expect(page(1).next == nil && encoded == 4)
        log.insert(6)                                   // a join while it is the only page
        #expect(page(1).next == 4 && encoded == 5)
        log.replace(1, with: 7)                         // another device takes a listed place
        #expect(page(1).keys == [7, 3, 4] && encoded == 6)
        log.remove(6)
        #expect(page(1).next == nil && encoded == 7)
        #expect(page(1).keys == [7, 3, 4] && encoded == 7)
    }

    @Test func joinAndLeaveStayCheapAtAnySize() {
        var log = MemberLog()
        for key in 1...100_000 as ClosedRange<SessionKey> { log.insert(key) }
        for key in 1...99_000 as ClosedRange<SessionKey> { log.remove(key) }
        #expect(log.count == 1000)
        #expect(log.all.first == 99_001)
        #expect(log.page(after: 0, limit: 5).keys == [99_001, 99_002, 99_003, 99_004, 99_005])
    }
}
