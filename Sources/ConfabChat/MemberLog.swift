/// A room's listed members in the order they joined, each with a room-local join number
/// that never changes while they stay. Paging by join number is stable while people come
/// and go: a member listed from the first page to the last is seen exactly once.
///
/// Join and leave are O(1) (append; tombstone), and tombstones are compacted away once
/// they outnumber the live entries, so each costs O(1) amortized whatever the room's size.
struct MemberLog {
    private var keys: [SessionKey] = []
    /// Join number of each entry, ascending; binary-searched by `page(after:)`.
    private var numbers: [UInt64] = []
    private var position: [SessionKey: Int] = [:]
    private var nextNumber: UInt64 = 1
    private(set) var count = 0

    /// Marks a removed entry in `keys`; session keys start at 1.
    private static let tombstone: SessionKey = 0

    /// The first page (`page(after: 0, limit:)`) with its users' encoded JSON, kept while it
    /// stays the same: in a crowd everyone joins after it, so a join encodes no member list.
    struct FirstPage {
        var keys: [SessionKey]
        var next: UInt64?
        var limit: Int
        /// Join number of its last member.
        var through: UInt64
        var usersJSON: [UInt8]
        /// `SessionTable.userChanges` when it was encoded: any rename since makes it stale.
        var userChanges: UInt64
    }

    /// Dropped by anything that changes the first page: a join while it is the only page, a
    /// member on it leaving or replaced, the last one after it leaving; renames are caught by
    /// `userChanges`.
    private var firstPage: FirstPage?

    /// What is kept, for the invariant checks.
    var keptFirstPage: FirstPage? { firstPage }

    /// The first page with its users' JSON: the one kept if still right, else made now and kept.
    mutating func firstPage(limit: Int, userChanges: UInt64, encode: ([SessionKey]) -> [UInt8]) -> FirstPage {
        if let kept = firstPage, kept.limit == limit, kept.userChanges == userChanges { return kept }
        let (keys, next) = page(after: 0, limit: limit)
        let through = keys.last.flatMap { position[$0] }.map { numbers[$0] } ?? 0
        let made = FirstPage(keys: keys, next: next, limit: limit, through: through, usersJSON: encode(keys),
                             userChanges: userChanges)
        firstPage = made
        return made
    }

    func contains(_ key: SessionKey) -> Bool { position[key] != nil }

    mutating func insert(_ key: SessionKey) {
        guard position[key] == nil else { return }
        position[key] = keys.count
        keys.append(key)
        numbers.append(nextNumber)
        nextNumber += 1
        count += 1
        if firstPage?.next == nil { firstPage = nil }
    }

    mutating func remove(_ key: SessionKey) {
        guard let index = position.removeValue(forKey: key) else { return }
        forgetFirstPage(ifItHolds: index)
        keys[index] = Self.tombstone
        count -= 1
        if let page = firstPage, count <= page.keys.count { firstPage = nil }  // its `next` would end now
        if keys.count - count > max(count, 64) { compact() }
    }

    /// `new` takes `old`'s place and join number (another device of the same account, when
    /// the listed one leaves): to the room and its pages, nobody came or went.
    mutating func replace(_ old: SessionKey, with new: SessionKey) {
        guard position[new] == nil, let index = position.removeValue(forKey: old) else { return }
        forgetFirstPage(ifItHolds: index)
        keys[index] = new
        position[new] = index
    }

    private mutating func forgetFirstPage(ifItHolds index: Int) {
        if let page = firstPage, numbers[index] <= page.through { firstPage = nil }
    }

    private mutating func compact() {
        var write = 0
        for read in keys.indices where keys[read] != Self.tombstone {
            keys[write] = keys[read]
            numbers[write] = numbers[read]
            position[keys[write]] = write
            write += 1
        }
        keys.removeLast(keys.count - write)
        numbers.removeLast(numbers.count - write)
    }

    /// Every member, in join order.
    var all: [SessionKey] { keys.filter { $0 != Self.tombstone } }

    /// Up to `limit` members who joined after join number `cursor`, and the cursor of the
    /// next page (nil when this page reaches the end).
    func page(after cursor: UInt64, limit: Int) -> (keys: [SessionKey], next: UInt64?) {
        var low = 0, high = numbers.count
        while low < high {
            let middle = (low + high) / 2
            if numbers[middle] <= cursor { low = middle + 1 } else { high = middle }
        }
        var page: [SessionKey] = []
        page.reserveCapacity(min(limit, count))
        var index = low
        var last = cursor
        while index < keys.count, page.count < limit {
            if keys[index] != Self.tombstone {
                page.append(keys[index])
                last = numbers[index]
            }
            index += 1
        }
        while index < keys.count, keys[index] == Self.tombstone { index += 1 }
        return (page, index < keys.count ? last : nil)
    }
}
