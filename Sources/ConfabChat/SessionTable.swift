/// Sessions by key, in a slab: a key is a slot number (from 1), and a freed slot is reused by
/// a later session. An array of slots costs a session's size per user; a dictionary would add
/// its hashing and up to half again in empty buckets.
struct SessionTable: Sequence {
    private var slots: [Session?] = []
    private var free: [Int] = []
    private(set) var count = 0
    /// Counts renames and sessions stored over others: what a cached list of users depends on.
    private(set) var userChanges: UInt64 = 0

    /// The key the next session gets.
    var nextKey: SessionKey { SessionKey((free.last ?? slots.count) + 1) }

    /// Stores a session under its own key, which must be `nextKey` or already in use.
    mutating func store(_ session: Session) {
        let index = Int(session.key) - 1
        if index == slots.count {
            slots.append(session)
            count += 1
        } else if slots.indices.contains(index) {
            if slots[index] == nil {
                // `nextKey` hands out the last free slot; any other free slot is searched for.
                if free.last == index { free.removeLast() } else { free.removeAll { $0 == index } }
                count += 1
            } else {
                userChanges &+= 1
            }
            slots[index] = session
        }
    }

    /// Renames a session; every rename goes through here so `userChanges` sees it.
    mutating func rename(_ key: SessionKey, to name: String) {
        let index = Int(truncatingIfNeeded: key) - 1
        guard slots.indices.contains(index), slots[index] != nil else { return }
        slots[index]?.rename(to: name)
        userChanges &+= 1
    }

    subscript(key: SessionKey) -> Session? {
        get {
            let index = Int(truncatingIfNeeded: key) - 1
            return slots.indices.contains(index) ? slots[index] : nil
        }
        _modify {
            let index = Int(truncatingIfNeeded: key) - 1
            if slots.indices.contains(index), slots[index] != nil {
                yield &slots[index]
            } else {
                var absent: Session? = nil  // writes to a missing session change nothing
                yield &absent
            }
        }
    }

    mutating func removeValue(forKey key: SessionKey) -> Session? {
        let index = Int(truncatingIfNeeded: key) - 1
        guard slots.indices.contains(index), let session = slots[index] else { return nil }
        slots[index] = nil
        free.append(index)
        count -= 1
        return session
    }

    var values: [Session] { slots.compactMap { $0 } }

    func makeIterator() -> some IteratorProtocol<(key: SessionKey, value: Session)> {
        slots.lazy.compactMap { $0.map { (key: $0.key, value: $0) } }.makeIterator()
    }
}
