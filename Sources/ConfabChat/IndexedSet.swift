/// A set kept as a contiguous array, with an index map so insert and remove are O(1)
/// (remove swaps the last element into the hole). The array can be handed out as is.
struct IndexedSet<Element: Hashable> {
    private(set) var elements: [Element] = []
    private var index: [Element: Int] = [:]

    var isEmpty: Bool { elements.isEmpty }

    func contains(_ element: Element) -> Bool { index[element] != nil }

    mutating func insert(_ element: Element) {
        guard index[element] == nil else { return }
        index[element] = elements.count
        elements.append(element)
    }

    mutating func remove(_ element: Element) {
        guard let position = index.removeValue(forKey: element) else { return }
        let last = elements.removeLast()
        if position < elements.count {
            elements[position] = last
            index[last] = position
        }
    }

    /// Puts `new` in `old`'s slot (or appends it when `old` is absent), keeping the order.
    mutating func replace(_ old: Element, with new: Element) {
        guard let position = index.removeValue(forKey: old) else { return insert(new) }
        elements[position] = new
        index[new] = position
    }
}
