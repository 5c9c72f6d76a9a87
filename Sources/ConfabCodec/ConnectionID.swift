/// Identifies one transport connection for its whole life, shared by the reactor that assigns
/// it and the layers above that address their effects with it. The reactor makes it a slot
/// index in the low 32 bits and the slot's generation in the high 32, so a stale id never
/// reaches a newer connection; the others treat it as opaque.
public typealias ConnectionID = UInt64
