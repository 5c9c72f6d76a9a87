/// `compat.*`: other chat protocols served over the same rooms, each off unless asked for.
public struct CompatSettings: Sendable, Equatable {
    /// Off: a second protocol is more surface, to open when PixIDE clients need it.
    public var pixidePath: String? = nil

    public init() {}
}
