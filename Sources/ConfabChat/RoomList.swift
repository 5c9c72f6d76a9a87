/// A session's rooms in join order. Nearly everyone is in one room, so the first is kept
/// inline and only the others take an array: a session in one room allocates nothing for it.
struct RoomList: RandomAccessCollection, ExpressibleByArrayLiteral, Equatable {
    private var head: RoomID?
    private var tail: [RoomID] = []

    init(_ rooms: some Sequence<RoomID>) {
        for room in rooms { append(room) }
    }

    init(arrayLiteral rooms: RoomID...) { self.init(rooms) }

    var startIndex: Int { 0 }
    var endIndex: Int { head == nil ? 0 : 1 + tail.count }

    subscript(position: Int) -> RoomID {
        // Callers index within 0..<count; `head` is set whenever count > 0.
        position == 0 ? (head ?? 0) : tail[position - 1]
    }

    mutating func append(_ room: RoomID) {
        if head == nil { head = room } else { tail.append(room) }
    }
}
